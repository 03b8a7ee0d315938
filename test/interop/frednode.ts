// Obtains FReD's node binary (git.tu-berlin.de/mcc-fred/fred/cmd/frednode, v0.2.19) for the
// interoperability test: $ENOKI_FREDNODE, `frednode` on PATH, a cached build, or `go install`
// through the Go module proxy. Returns why not when it cannot be had.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FRED_MODULE = 'git.tu-berlin.de/mcc-fred/fred/cmd/frednode@v0.2.19';

export type Frednode = { binary: string } | { unavailable: string };

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function obtainFrednode(): Frednode {
  const explicit = process.env.ENOKI_FREDNODE;
  if (explicit) return fs.existsSync(explicit) ? { binary: explicit } : { unavailable: `ENOKI_FREDNODE=${explicit} does not exist` };
  const found = onPath('frednode');
  if (found) return { binary: found };
  const cacheDir = path.join(os.homedir(), '.cache', 'enoki', 'frednode-v0.2.19');
  const cached = path.join(cacheDir, 'frednode');
  if (fs.existsSync(cached)) return { binary: cached };
  const go = onPath('go') ?? (fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) return { unavailable: 'the Go toolchain is not installed, so FReD cannot be built' };
  fs.mkdirSync(cacheDir, { recursive: true });
  const result = spawnSync(go, ['install', FRED_MODULE], {
    env: { ...process.env, GOBIN: cacheDir, GOFLAGS: '-mod=mod' },
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (result.status === 0 && fs.existsSync(cached)) return { binary: cached };
  const reason = (result.stderr || result.error?.message || `exit ${result.status}`).trim().split('\n').slice(-2).join(' ');
  return { unavailable: `go install ${FRED_MODULE} failed: ${reason}` };
}
