// Deploys the example functions built under functions/build/ (by `npm run build:functions`) to a
// freshly started node, skipping any whose active version already has the same bytes.

import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestOf } from '../functions/artifact-store.js';
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
    const bytes = await fs.readFile(path.join(dir, file));
    const current = functions.list().find((f) => f.name === name);
    const active = current?.versions.find((v) => v.id === current.active);
    if (active?.digest !== digestOf(bytes)) await functions.deploy(name, bytes);
    deployed.push(name);
  }
  return deployed;
}
