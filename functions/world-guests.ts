// Builds the standard-world test guests (test/fixtures/worlds/*.{js,wat}) to
// functions/build/worlds/<name>.wasm: JS guests with componentize-js as `jco componentize` builds
// a fetch handler (every default feature, fetch-event included), WAT guests wrapped for their
// world. Their worlds (test/fixtures/worlds/wit/) use WASI 0.2 packages taken from jco's own copy
// at build time, at 0.2.10: the version StarlingMonkey's incoming-handler export has.

import fs from 'node:fs/promises';
import path from 'node:path';
import { cacheKey, jsModuleSources, packageVersion, readCached, witSources, writeCached } from '../runtime/build/build-cache.js';
import { buildWatGuest } from '../runtime/build/componentize-wat.js';
import { grantWitAccess } from '../runtime/build/wit-access.js';

const WASI_PACKAGES = ['cli', 'clocks', 'filesystem', 'http', 'io', 'random', 'sockets'];
const WASI_VERSION = '0.2.10';

/** The world each guest is built for, by file name; the rest use `http`. */
const WORLDS: Record<string, string> = {
  'kv-counter.js': 'http-keyvalue',
  'kv-counter.wat': 'http-keyvalue',
  'http-probe.wat': 'http-clock',
  'http-hoard.wat': 'http-keyvalue',
  'http-sockets.wat': 'http-sockets',
};

export interface WorldGuest {
  name: string;
  source: string;
  out: string;
  world: string;
}

export function worldGuests(fixturesDir: string, outDir: string, files: string[]): WorldGuest[] {
  return files
    .filter((f) => /\.(js|wat)$/.test(f))
    .map((file) => ({
      name: `worlds/${file.replace(/\.(js|wat)$/, '')}${file.endsWith('.wat') ? '-wat' : ''}`,
      source: path.join(fixturesDir, file),
      out: path.join(outDir, `${file.replace(/\.(js|wat)$/, '')}${file.endsWith('.wat') ? '-wat' : ''}.wasm`),
      world: WORLDS[file] ?? 'http',
    }));
}

/**
 * The WIT folder the guests build against: the fixtures' worlds and wasi:keyvalue, plus WASI
 * 0.2 from jco, written once to `dir` (rewritten when any input changes).
 */
export async function prepareWorldWit(fixtureWit: string, dir: string): Promise<string> {
  const jcoWit = path.join(path.dirname(new URL(import.meta.resolve('@bytecodealliance/jco')).pathname), '..', 'lib', 'wit', 'builtin', '0.2.12');
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.join(dir, 'deps'), { recursive: true });
  await fs.cp(fixtureWit, dir, { recursive: true });
  for (const pkg of WASI_PACKAGES) {
    const text = await fs.readFile(path.join(jcoWit, `wasi-${pkg}`, 'package.wit'), 'utf8');
    await fs.mkdir(path.join(dir, 'deps', pkg), { recursive: true });
    await fs.writeFile(path.join(dir, 'deps', pkg, 'package.wit'), text.replaceAll('@0.2.12', `@${WASI_VERSION}`));
  }
  return dir;
}

export async function buildWorldGuest(guest: WorldGuest, witDir: string): Promise<{ bytes: Uint8Array; cached: boolean }> {
  const js = guest.source.endsWith('.js');
  const sources = js ? await jsModuleSources(guest.source) : new Map([[path.basename(guest.source), await fs.readFile(guest.source, 'utf8')]]);
  for (const [name, text] of witSources(witDir)) sources.set(name, text);
  const tool = js ? '@bytecodealliance/componentize-js' : '@bytecodealliance/jco';
  const key = cacheKey({ tool: `${await packageVersion(tool)} worlds 1`, sources, settings: { world: guest.world } });
  const cached = await readCached(guest.out, key);
  if (cached) return { bytes: cached, cached: true };
  let bytes: Uint8Array;
  if (js) {
    const { componentize } = await import('@bytecodealliance/componentize-js');
    const { component } = await componentize({ sourcePath: guest.source, witPath: await grantWitAccess(witDir), worldName: guest.world });
    bytes = component;
  } else {
    bytes = await buildWatGuest({ wat: await fs.readFile(guest.source, 'utf8'), witDir, world: guest.world, file: guest.source });
  }
  await writeCached(guest.out, key, bytes);
  return { bytes, cached: false };
}
