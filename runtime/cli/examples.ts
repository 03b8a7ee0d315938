// Deploys the example functions built under functions/build/ (by `npm run build:functions`) to a
// freshly started node, skipping any whose active version already has the same bytes.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionService } from '../functions/function-service.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../../functions/build', import.meta.url));

export async function deployExamples(functions: FunctionService, dir = EXAMPLES_DIR): Promise<string[]> {
  let files: string[];
  try {
    files = (await fs.readdir(dir)).filter((f) => f.endsWith('.wasm')).sort();
  } catch {
    throw new Error(`no built examples in ${dir}: run \`npm run build:functions\` first`);
  }
  const deployed: string[] = [];
  for (const file of files) {
    const name = path.basename(file, '.wasm');
    const current = functions.list().find((f) => f.name === name);
    const active = current?.versions.find((v) => v.id === current.active);
    // A restart finds every example deployed: hashing the file as a stream avoids holding its
    // 12 MB (and leaving the node's memory that much larger) just to learn that.
    const source = path.join(dir, file);
    if (active?.digest !== (await fileDigest(source))) await functions.deploy(name, await fs.readFile(source));
    deployed.push(name);
  }
  return deployed;
}

/** The sha256 of a file's bytes (the artefact digest), read in chunks. */
async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
