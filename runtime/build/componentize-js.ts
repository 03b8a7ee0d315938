// Builds a JavaScript guest into a component with componentize-js (SpiderMonkey), WASI off by default.

import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeOutput } from './build-cache.js';
import { GuestBuildError } from './guest-build-error.js';
import { installSpliceMemo } from './splice-memo.js';
import { grantWitAccess } from './wit-access.js';

/** The WASI features componentize-js can build into the engine. */
export const WASI_FEATURES = ['stdio', 'random', 'clocks', 'http'] as const;
export type WasiFeature = (typeof WASI_FEATURES)[number];

export interface JsGuestOptions {
  /** Path of the guest's entry module; its relative imports are built in too. */
  source: string;
  /** Also write the component to this path. */
  out?: string;
  /** The WIT folder (or a single .wit file) to build against. */
  witDir: string;
  world?: string;
  /**
   * WASI features to keep; all others are left out. Each one the engine has costs time on every
   * call (with `clocks`, warm calls are several times slower) and needs host imports the node may
   * not provide, so the default is none.
   */
  features?: readonly WasiFeature[];
}

/** Builds a JS guest; ~10 s and a ~12 MB component, mostly the SpiderMonkey engine. */
export async function buildJsGuest(options: JsGuestOptions): Promise<Uint8Array> {
  const { source, out, witDir, world = 'function', features = [] } = options;
  const unknown = features.filter((f) => !(WASI_FEATURES as readonly string[]).includes(f));
  if (unknown.length > 0) {
    throw new GuestBuildError(source, `unknown WASI feature ${unknown.join(', ')} (known: ${WASI_FEATURES.join(', ')})`);
  }
  const text = await readSource(source);
  // Checked here first: componentize-js reports only a count of parse errors (and leaves its
  // temporary folder behind when it fails that early).
  const syntax = await syntaxErrors(source, text);
  if (syntax) throw new GuestBuildError(source, `JavaScript syntax error\n${syntax}`);
  const [{ componentize }, witPath] = await Promise.all([
    import('@bytecodealliance/componentize-js'),
    grantWitAccess(witDir),
    installSpliceMemo(),
  ]);
  let component: Uint8Array;
  try {
    ({ component } = await componentize({
      sourcePath: path.resolve(source),
      witPath,
      worldName: world,
      // fetch-event is componentize-js's wasi:http incoming handler; a guest exports `handler`.
      disableFeatures: [...WASI_FEATURES.filter((f) => !features.includes(f)), 'fetch-event'],
    }));
  } catch (err) {
    throw await explain(source, text, world, err);
  }
  if (out) await writeOutput(out, component);
  return component;
}

async function readSource(source: string): Promise<string> {
  let text: string;
  try {
    text = await fs.readFile(source, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GuestBuildError(source, code === 'ENOENT' ? 'no such file' : `cannot read the source (${code ?? err})`, { cause: err });
  }
  if (text.trim() === '') throw new GuestBuildError(source, 'the source is empty');
  return text;
}

/** Turns componentize-js's failures into messages about the user's file. */
async function explain(source: string, text: string, world: string, err: unknown): Promise<GuestBuildError> {
  // componentize-js calls the entry module "source.js" in some messages.
  const message = String((err as Error)?.message ?? err).replaceAll('"source.js"', `"${path.basename(source)}"`);
  if (message.startsWith('failed to parse JS source')) {
    const details = await syntaxErrors(source, text);
    return new GuestBuildError(source, `JavaScript syntax error${details ? `\n${details}` : ''}`, { cause: err });
  }
  const init = /^Failed to initialize component[^\n]*\n/.exec(message);
  if (init) {
    // Wizer ran the module's top level and it threw, or an import could not be resolved.
    let reason = message.slice(init[0].length).trim();
    const missing = /Error loading module "([^"./][^"]*)"/.exec(reason);
    if (missing) {
      reason += `\n("${missing[1]}" is neither a relative module nor an interface the world \`${world}\` imports, such as "enoki:faas/kv@0.1.0")`;
    }
    return new GuestBuildError(source, `the module failed while initialising:\n${reason}`, { cause: err });
  }
  if (/^Unable to (extract expected exports|parse the core ABI)/.test(message)) {
    return new GuestBuildError(source, `its exports do not match world \`${world}\`:\n${message}`, { cause: err });
  }
  return new GuestBuildError(source, `componentize-js failed: ${message}`, { cause: err });
}

/**
 * The parse errors, with code frames, from the same parser componentize-js uses (oxc, one of its
 * dependencies), since it reports only how many errors it found. Undefined if that parser is not
 * reachable.
 */
async function syntaxErrors(source: string, text: string): Promise<string | undefined> {
  try {
    const require = createRequire(fileURLToPath(import.meta.resolve('@bytecodealliance/componentize-js')));
    const oxc = (await import(pathToFileURL(require.resolve('oxc-parser')).href)) as {
      parseAsync(file: string, code: string): Promise<{ errors: { message: string; codeframe?: string }[] }>;
    };
    const { errors } = await oxc.parseAsync(path.basename(source), text);
    if (errors.length === 0) return undefined;
    return errors.map((e) => (e.codeframe ?? e.message).replace(/^\n+/, '').trimEnd()).join('\n');
  } catch {
    return undefined;
  }
}
