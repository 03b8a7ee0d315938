// Replacing a file atomically: write a temporary file beside it, optionally fsync it, rename it
// over the target, and fsync the directory, so that a reader (or a restart after a crash) sees
// either the old contents or the new, never a mix.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** With `sync`, the new contents survive power loss once the promise resolves. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, options: { sync: boolean }): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(data);
      if (options.sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  if (options.sync) {
    const dir = await fs.open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

/** Whether a file name is one of writeFileAtomic's leftovers (a crash between write and rename). */
export function isAtomicLeftover(name: string): boolean {
  return /\.[0-9a-f]{8}\.tmp$/.test(name);
}
