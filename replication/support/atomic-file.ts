// Replacing a file atomically: write a temporary file beside it, optionally fsync it, rename it
// over the target, and fsync the directory, so that a reader (or a restart after a crash) sees
// either the old contents or the new, never a mix. Shared by everything the node keeps as whole
// files: the registry and async results (synced), triggers, build outputs and code caches.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * With `sync` (the default), the new contents survive power loss once the promise resolves;
 * without, they survive a crash of the process. Files are created with mode 0600.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, options: { sync?: boolean } = {}): Promise<void> {
  const sync = options.sync ?? true;
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(data);
      if (sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  if (!sync) return;
  // The rename is durable only once the directory is synced; not every platform allows it.
  try {
    const dir = await fs.open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Best effort (e.g. Windows cannot open a directory): the data itself is already synced.
  }
}

/** Whether a file name is one of writeFileAtomic's leftovers (a crash between write and rename). */
export function isAtomicLeftover(name: string): boolean {
  return /\.[0-9a-f]{8}\.tmp$/.test(name);
}
