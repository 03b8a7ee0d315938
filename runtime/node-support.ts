// Small helpers of the composition root (node.ts): secrets kept in the data directory and
// periodic background tasks.

import fs from 'node:fs/promises';

/** Reads a value kept in the data directory, or creates it (file mode 0600). */
export async function persistentSecret(file: string, create: () => string): Promise<{ value: string; created: boolean }> {
  try {
    return { value: (await fs.readFile(file, 'utf8')).trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = create();
  await fs.writeFile(file, value + '\n', { mode: 0o600, flag: 'wx' });
  return { value, created: true };
}

/** Runs `task` every `ms` (never two at once) until the returned stop is called. */
export function every(ms: number, task: () => Promise<unknown>): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void task().finally(() => (running = false));
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
