// `enoki build`: a guest source (JS, TypeScript, Python or WAT) to a component, against Enoki's
// world or, with --wit and --world, any other; `enoki setup python` installs the Python toolchain
// ahead of the first Python build; `enoki types` writes a world's TypeScript declarations.

import path from 'node:path';
import { loadToolConfig } from '../config.js';
import { WIT_DIR } from '../node.js';
import { CliError } from './client.js';
import { withProgress } from './progress.js';

export interface BuildCommandOptions {
  output?: string;
  features?: string[];
  wit?: string;
  world?: string;
}

const SOURCE_EXT = /\.(js|mjs|ts|mts|py|wat)$/;

/** `<source>` without its extension, plus `.wasm`. */
export function defaultOutput(source: string): string {
  return source.replace(SOURCE_EXT, '') + '.wasm';
}

const ESTIMATES: Record<string, string> = {
  js: ' (a JS guest takes ~10 s)',
  ts: ' (a TypeScript guest takes ~10 s)',
  python: ' (a Python guest takes ~30 s)',
};

/** The error codes of the build library, shown like the node's: "message [CODE]". */
function coded(err: unknown): never {
  const code = (err as { code?: unknown })?.code;
  if (code === 'ERR_GUEST_BUILD') throw new CliError(`${(err as Error).message}\n[${code}]`);
  throw err;
}

export async function runBuild(source: string, options: BuildCommandOptions): Promise<void> {
  // Loaded on demand: the componentize toolchains are heavy and only these commands need them.
  const { buildGuest, defaultWorld, guestKind, WASI_FEATURES } = await import('../build/index.js');
  const witDir = options.wit ? path.resolve(options.wit) : WIT_DIR;
  const unknown = (options.features ?? []).filter((f) => !(WASI_FEATURES as readonly string[]).includes(f));
  if (unknown.length > 0) throw new CliError(`unknown --feature ${unknown.join(', ')} (known: ${WASI_FEATURES.join(', ')})`);
  const out = options.output ?? defaultOutput(source);
  try {
    const kind = guestKind(source);
    const world = options.world ?? (options.wit ? await defaultWorld(witDir) : 'function');
    const tools = loadToolConfig();
    const result = await withProgress(`building ${source}${ESTIMATES[kind] ?? ''}`, () =>
      buildGuest({
        source: path.resolve(source),
        out: path.resolve(out),
        witDir,
        world,
        features: options.features as (typeof WASI_FEATURES)[number][] | undefined,
        tools,
        onInstall: (message) => process.stderr.write(`\n${message}…\n`),
      }),
    );
    process.stdout.write(`${out} (${(result.bytes.length / 1024).toFixed(1)} KiB${result.cached ? ', unchanged since the last build' : ''})\n`);
  } catch (err) {
    coded(err);
  }
}

export async function runSetup(what: string | undefined): Promise<void> {
  if (what !== 'python') throw new CliError(`enoki setup: the only toolchain to set up is "python" (componentize-py), got "${what ?? ''}"`);
  const { ensurePythonTools, findPythonTools } = await import('../build/index.js');
  const config = loadToolConfig();
  const found = await findPythonTools(config);
  try {
    const tools = found ?? (await withProgress('installing the Python guest toolchain', () => ensurePythonTools(config)));
    process.stdout.write(`${tools.label}\n${tools.dir}\n`);
  } catch (err) {
    coded(err);
  }
}

export async function runTypes(options: { wit?: string; world?: string; outDir?: string }): Promise<void> {
  const { defaultWorld, writeGuestTypes } = await import('../build/index.js');
  const witDir = options.wit ? path.resolve(options.wit) : WIT_DIR;
  const outDir = options.outDir ?? 'types';
  try {
    const world = options.world ?? (options.wit ? await defaultWorld(witDir) : 'function');
    const files = await writeGuestTypes({ witDir, world, outDir });
    process.stdout.write(files.map((f) => path.join(outDir, f)).join('\n') + '\n');
  } catch (err) {
    coded(err);
  }
}
