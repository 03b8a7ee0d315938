// Builds a guest written in WebAssembly text: a core module wrapped into a component for a WIT world.

import { writeOutput } from './build-cache.js';
import { GuestBuildError } from './guest-build-error.js';
import { grantWitAccess } from './wit-access.js';

export interface WatGuestOptions {
  /** The WAT text of a core module that follows the canonical ABI for `world`. */
  wat: string;
  /** The WIT folder (or a single .wit file) to build against. */
  witDir: string;
  world?: string;
  /** Also write the component to this path. */
  out?: string;
  /** The source's name, for error messages. */
  file?: string;
}

/**
 * WAT → core module → core module with the world's type information embedded → component.
 * A `(component ...)` in WAT is already one and is returned as parsed.
 */
export async function buildWatGuest(options: WatGuestOptions): Promise<Uint8Array> {
  const { wat, witDir, world = 'function', out, file = '<wat>' } = options;
  const binary = await parseWat(wat, file);
  let component = binary;
  if (!isComponent(binary)) {
    const witPath = await grantWitAccess(witDir);
    const { componentEmbed, componentNew } = await jco();
    let embedded: Uint8Array;
    try {
      embedded = await componentEmbed({ binary, witPath, world, stringEncoding: 'utf8' });
    } catch (err) {
      throw new GuestBuildError(file, `cannot use world \`${world}\` from ${witDir}: ${messageOf(err)}`, { cause: err });
    }
    try {
      component = await componentNew(embedded);
    } catch (err) {
      throw new GuestBuildError(file, `the module does not fit world \`${world}\`: ${messageOf(err)}`, { cause: err });
    }
  }
  if (out) await writeOutput(out, component);
  return component;
}

export interface CoreModuleOptions {
  wat: string;
  out?: string;
  file?: string;
}

/** Assembles WAT into a plain core module, not a component (e.g. to test that one is rejected). */
export async function buildCoreModule(options: CoreModuleOptions): Promise<Uint8Array> {
  const { wat, out, file = '<wat>' } = options;
  const binary = await parseWat(wat, file);
  if (isComponent(binary)) throw new GuestBuildError(file, 'expected a core module, found a component');
  if (out) await writeOutput(out, binary);
  return binary;
}

/** jco is loaded on first use (~0.4 s), so a build that finds everything cached never loads it. */
function jco(): Promise<typeof import('@bytecodealliance/jco')> {
  return import('@bytecodealliance/jco');
}

async function parseWat(wat: string, file: string): Promise<Uint8Array> {
  const { parse } = await jco();
  try {
    return await parse(wat);
  } catch (err) {
    throw new GuestBuildError(file, `WAT error ${watErrorText(messageOf(err), file)}`, { cause: err });
  }
}

/**
 * jco's parse reports wasm-tools' error as a Rust debug dump, e.g. `Error { kind: Wast(Error {
 * inner: ErrorInner { text: Some(Text { line: 0, col: 18, snippet: "..." }), ... kind:
 * Custom("unknown operator or unexpected token") } }) }`; this makes it `file:1:19: message`
 * with the line and a caret. Anything else is passed through.
 */
function watErrorText(message: string, file: string): string {
  const at = /line: (\d+), col: (\d+), snippet: "((?:[^"\\]|\\.)*)"/.exec(message);
  const kind = /kind: Custom\("((?:[^"\\]|\\.)*)"\)/.exec(message) ?? /kind: ((?!Wast\b)\w+(?:\([^()]*\))?)/.exec(message);
  if (!at || !kind) return `in ${file}: ${message}`;
  const [line, col] = [Number(at[1]), Number(at[2])];
  let snippet = at[3];
  try {
    snippet = JSON.parse(`"${snippet}"`) as string; // Rust's debug escapes are JSON's, mostly
  } catch {
    // keep it escaped
  }
  return `at ${file}:${line + 1}:${col + 1}: ${kind[1]}\n  ${snippet}\n  ${' '.repeat(col)}^`;
}

/** Component binaries carry layer 1 in bytes 6-7 of the header; core modules carry 0. */
function isComponent(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && (bytes[6] | (bytes[7] << 8)) === 1;
}

function messageOf(err: unknown): string {
  return String((err as Error)?.message ?? err).trim();
}
