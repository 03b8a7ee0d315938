// `enoki new <name> --lang js|ts|python|wat`: a function folder that builds and deploys as it is.

import fs from 'node:fs/promises';
import path from 'node:path';
import { WIT_DIR } from '../node.js';
import { CliError } from './client.js';
import { LANGUAGES, TEMPLATES, type Language } from './scaffold-templates.js';

/** The node's rule for function names, so that the folder's name deploys as the function's. */
const FUNCTION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface NewOptions {
  name: string;
  lang: string;
  /** The folder to create; defaults to ./<name>. */
  dir?: string;
}

export interface Scaffolded {
  dir: string;
  /** The file to give `enoki build`. */
  source: string;
  files: string[];
}

export async function scaffold(options: NewOptions): Promise<Scaffolded> {
  const { name, lang } = options;
  if (!FUNCTION_NAME.test(name)) {
    throw new CliError(`"${name}" cannot be a function name: use lowercase letters, digits and '-', starting with a letter or digit (at most 63)`);
  }
  if (!(LANGUAGES as readonly string[]).includes(lang)) throw new CliError(`--lang must be one of ${LANGUAGES.join(', ')}, got "${lang}"`);
  const template = TEMPLATES[lang as Language](name);
  const dir = path.resolve(options.dir ?? name);
  let existing: string[] = [];
  try {
    existing = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot use ${dir}: ${(err as Error).message}`);
  }
  if (existing.length > 0) throw new CliError(`${dir} already exists and is not empty; choose another name or --dir`);
  await fs.mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const [file, text] of Object.entries(template.files)) {
    await fs.writeFile(path.join(dir, file), text);
    files.push(file);
  }
  if (template.types) {
    const { writeGuestTypes } = await import('../build/guest-types.js');
    const written = await writeGuestTypes({ witDir: WIT_DIR, world: 'function', outDir: path.join(dir, 'types') });
    files.push(...written.map((f) => `types/${f}`));
  }
  return { dir, source: template.source, files: files.sort() };
}

export async function runNew(options: NewOptions): Promise<void> {
  const result = await scaffold(options);
  const rel = path.relative(process.cwd(), result.dir) || '.';
  process.stdout.write(
    `${result.files.map((f) => path.join(rel, f)).join('\n')}\n\n` +
      `cd ${rel} && npx enoki build ${result.source} -o ${options.name}.wasm && npx enoki deploy ${options.name}.wasm\n`,
  );
}
