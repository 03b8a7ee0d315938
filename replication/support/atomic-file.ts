// Writes a file so that a crash leaves either the old contents or the new, never a mix: write a
// temporary file beside it, fsync it, rename it into place, fsync the directory. Shared by
// everything the node persists as whole files (registry, templates, triggers, build outputs).

import fs from 'node:fs/promises';
import path from 'node:path';

let counter = 0;

export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}.${counter++}.tmp`;
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temporary, file);
  } catch (err) {
    await fs.rm(temporary, { force: true });
    throw err;
  }
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
