// Crash tests: a script run in a child process that SIGKILLs itself at its end, without closing
// anything, and a temporary directory for what it leaves behind.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';

/**
 * Runs `body` (the body of an ES module, which may await) in a child process that imports
 * `imports` (name → module URL) first and is SIGKILLed right after `body`, in the same turn of
 * the event loop as its last statement.
 */
export function runThenKill(imports: Record<string, string>, body: string): void {
  const head = Object.entries(imports)
    .map(([name, url]) => `const { ${name} } = await import(${JSON.stringify(url)});`)
    .join('\n');
  const script = `${head}\n${body}\nprocess.kill(process.pid, 'SIGKILL');`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(child.signal, 'SIGKILL', child.stderr);
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
