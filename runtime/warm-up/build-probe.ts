// Builds the warm-up probe: probe.wat (in the sources, next to this file) into probe.wasm next to
// the compiled warm-up.js. `npm run build` (runtime/cli/build-if-stale.mjs) runs it when the
// output is missing or older than its source; a node without it starts without warming up.

import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildWatGuest } from '../build/componentize-wat.js';
import { WIT_DIR } from '../node.js';
import { PROBE_FILE } from './warm-up.js';

/** runtime/warm-up/probe.wat from dist/runtime/warm-up/ (or from itself when run from the sources). */
const PROBE_SOURCE = fileURLToPath(new URL('../../../runtime/warm-up/probe.wat', import.meta.url));

const wat = await fs.readFile(PROBE_SOURCE, 'utf8');
await buildWatGuest({ wat, witDir: WIT_DIR, world: 'function', out: PROBE_FILE, file: 'runtime/warm-up/probe.wat' });
