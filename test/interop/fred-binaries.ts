// FReD's binaries for interop tests (frednode, FReD's own 3NodeTest suite and its simpletrigger
// server), built from the FReD source snapshots kept beside the project by its build script
// (`../shared/fred/build.sh`, relative to the repository root; ENOKI_FRED_BUILD names another).
// Built binaries are cached outside the repository, under the user's cache directory keyed by a
// hash of the script and the snapshots, so that only the first run pays for the Go build. The Go
// toolchain is the machine's, or one the suite fetches (go-toolchain.ts).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBinDir } from './go-toolchain.js';

export interface FredBinaries {
  frednode: string;
  threeNodeTest: string;
  simpletrigger: string;
}

export type FredAvailability = { binaries: FredBinaries } | { unavailable: string };

/** The repository root: this file runs from dist/test/interop/. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_SCRIPT = path.join(REPO_ROOT, '..', 'shared', 'fred', 'build.sh');
const BUILD_TIMEOUT_MS = 20 * 60_000;

let cached: FredAvailability | undefined;

/** The build script: ENOKI_FRED_BUILD, else ../shared/fred/build.sh beside the repository. */
export function fredBuildScript(): string {
  return process.env.ENOKI_FRED_BUILD || DEFAULT_SCRIPT;
}

/** Hash of the script's directory contents (script and snapshots): a new snapshot gets a new cache entry. */
function snapshotKey(script: string): string {
  const dir = path.dirname(script);
  const hash = createHash('sha256');
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (!fs.statSync(file).isFile()) continue;
    hash.update(name).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function cacheRoot(): string {
  return process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
}

/**
 * Builds (or finds in the cache) FReD's binaries; says why not when the build script is missing
 * or the build fails. Synchronous and memoised: a test file decides at load time what it runs.
 */
export function obtainFred(): FredAvailability {
  if (cached) return cached;
  const script = fredBuildScript();
  if (!fs.existsSync(script)) {
    cached = { unavailable: `FReD's build script ${script} does not exist (set ENOKI_FRED_BUILD to its path)` };
    return cached;
  }
  const out = path.join(cacheRoot(), 'enoki-fred', snapshotKey(script));
  const bin = path.join(out, 'bin');
  const binaries: FredBinaries = {
    frednode: path.join(bin, 'frednode'),
    threeNodeTest: path.join(bin, '3nodetest'),
    simpletrigger: path.join(bin, 'simpletrigger'),
  };
  if (!Object.values(binaries).every((file) => fs.existsSync(file))) {
    let go: ReturnType<typeof goBinDir>;
    try {
      go = goBinDir(cacheRoot());
    } catch (err) {
      throw new Error(`building FReD needs Go: ${(err as Error).message}`);
    }
    process.stderr.write(`building FReD with ${script} into ${out} (a few minutes with a cold Go module cache)\n`);
    // The pinned toolchain is new enough for FReD's go.mod: it is not to fetch another one.
    const env = { ...process.env, PATH: `${go.bin}${path.delimiter}${process.env.PATH ?? ''}`, ...(go.pinned && { GOTOOLCHAIN: 'local' }) };
    const result = spawnSync('bash', [script, out], { encoding: 'utf8', env, timeout: BUILD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0 || !Object.values(binaries).every((file) => fs.existsSync(file))) {
      const reason = (result.stderr || result.error?.message || `exit ${result.status}`).trim().split('\n').slice(-3).join(' | ');
      // A script that exists but fails is a broken setup, not a reason to skip: the tests fail with this.
      throw new Error(`building FReD with ${script} failed: ${reason}`);
    }
  }
  cached = { binaries };
  return cached;
}
