// Builds a JavaScript guest into a component with componentize-js (SpiderMonkey), WASI off by default.
// The guest's exported `handler` is wrapped so that an uncaught exception becomes the `err` of its
// result, carrying the error's name, message and stack: componentize-js can only lower a string
// there, and anything else (an Error object) ends in a bare "unreachable" trap.

import { randomBytes } from 'node:crypto';
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
  const entry = exportsHandler(text) ? await writeEntry(source) : undefined;
  let component: Uint8Array;
  try {
    ({ component } = await componentize({
      sourcePath: entry ?? path.resolve(source),
      witPath,
      worldName: world,
      // fetch-event is componentize-js's wasi:http incoming handler; a guest exports `handler`.
      disableFeatures: [...WASI_FEATURES.filter((f) => !features.includes(f)), 'fetch-event'],
    }));
  } catch (err) {
    throw await explain(source, text, world, err, entry);
  } finally {
    if (entry) await fs.rm(entry, { force: true });
  }
  if (out) await writeOutput(out, component);
  return component;
}

/** Whether the module exports `handler` itself (the world's export); other modules are built as they are. */
function exportsHandler(text: string): boolean {
  return /\bexport\s+(?:const|let|var|function\*?|class)\s+handler\b/.test(text) || /\bexport\s*\{[^}]*\bhandler\b[^}]*\}/.test(text);
}

/**
 * The module componentize-js builds instead of the guest's: it re-exports the guest's module
 * with `handler.handle` wrapped. It is written beside the guest's file (relative imports resolve
 * from there) under a hidden, unique name, and removed after the build. A string thrown, or a
 * `{ payload }` (how a guest passes on an import's error), already is an `err` and passes as it is.
 */
async function writeEntry(source: string): Promise<string | undefined> {
  const file = path.join(path.dirname(path.resolve(source)), `.${path.basename(source)}.${randomBytes(4).toString('hex')}.enoki-entry.js`);
  const guest = JSON.stringify(`./${path.basename(source)}`);
  const code = `import * as guest from ${guest};
export * from ${guest};

// Frames of this wrapper and of componentize-js's bindings say nothing about the guest.
const OURS = /enoki-entry\\.js|initializer\\.js/;
const MAX_FRAMES = 40;

function stackOf(e) {
  if (typeof e.stack !== 'string') return '';
  const frames = e.stack.split('\\n').filter((line) => line.trim() !== '' && !OURS.test(line));
  const kept = frames.slice(0, MAX_FRAMES);
  if (frames.length > kept.length) kept.push(\`… \${frames.length - kept.length} more frames\`);
  return kept.join('\\n');
}

function describe(e) {
  if (e instanceof Error) {
    const stack = stackOf(e);
    return \`\${e.name}: \${e.message}\${stack ? '\\n' + stack : ''}\`;
  }
  let text;
  try {
    text = JSON.stringify(e);
  } catch {}
  return 'uncaught exception: ' + (text ?? String(e));
}

const inner = guest.handler;
export const handler = {
  handle(req) {
    try {
      return inner.handle(req);
    } catch (e) {
      if (typeof e === 'string') throw e;
      // An import's error ({ payload: { tag, val } }) the guest did not catch.
      if (e !== null && typeof e === 'object' && Object.hasOwn(e, 'payload')) {
        throw typeof e.payload === 'string' ? e.payload : 'uncaught error of an import: ' + describe(e.payload).replace(/^uncaught exception: /, '');
      }
      throw describe(e);
    }
  },
};
`;
  try {
    await fs.writeFile(file, code, { flag: 'wx' });
    return file;
  } catch {
    // A read-only source folder: built unwrapped, uncaught errors then trap.
    return undefined;
  }
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
async function explain(source: string, text: string, world: string, err: unknown, entry?: string): Promise<GuestBuildError> {
  // componentize-js calls the entry module "source.js" in some messages; the wrapper is ours.
  let message = String((err as Error)?.message ?? err).replaceAll('"source.js"', `"${path.basename(source)}"`);
  if (entry) message = message.replaceAll(path.basename(entry), path.basename(source));
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
