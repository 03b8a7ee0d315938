// Deploy-time checks on uploaded bytes: is it WebAssembly, is it a component (not a core module),
// and does it target a world this node runs (worlds.ts). Every failure names what is wrong.

import { EnokiError } from '../errors.js';
import { ENOKI_HANDLER_EXPORT, ENOKI_WORLD, HTTP_WORLD, httpHandlerExport, importProblem, type WorldName } from './worlds.js';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Rejects anything that is not a component binary, before any expensive work. */
export function checkComponentHeader(bytes: Uint8Array): void {
  if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new EnokiError('ERR_NOT_WASM', 'the body is not a WebAssembly binary (missing the \\0asm header)');
  }
  // Core modules carry version 1 and layer 0; components carry layer 1.
  const layer = bytes[6] | (bytes[7] << 8);
  if (layer === 0) {
    throw new EnokiError(
      'ERR_NOT_COMPONENT',
      'this is a core WebAssembly module, not a component: build it against wit/ and wrap it ' +
        '(e.g. `jco new` or `enoki build`)',
    );
  }
  if (layer !== 1) {
    throw new EnokiError('ERR_NOT_COMPONENT', `unknown WebAssembly binary layer ${layer}`);
  }
}

export const HANDLER_EXPORT = ENOKI_HANDLER_EXPORT;

/** Interface type text as jco renders it, for comparing a component's types with Enoki's. */
export type InterfaceTypes = Map<string, string>;

/**
 * An interface's type text cut into its declarations (`function get`, `type KvError`, `interface
 * Item`, `class Pollable`), each with its text, comments and blank lines left out.
 */
export function declarations(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '');
  for (const chunk of code.split(/^(?=export )/m)) {
    const decl = chunk
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line.trim() !== '')
      .join('\n');
    const head = /^export (?:declare )?(function|type|interface|class|enum|const) ([\w$]+)/.exec(decl);
    if (head) found.set(`${head[1] === 'function' ? 'function' : 'type'} ${head[2]}`, decl);
  }
  return found;
}

/**
 * How an Enoki interface of a component differs from the node's. An imported one may hold only
 * some of the interface's functions and types: toolchains keep only what the guest calls (Rust's
 * wit-bindgen and wasm-tools leave the others out of the component), so each one it has must be
 * the node's. An exported one must be the whole interface.
 */
function interfaceProblems(name: string, component: Map<string, string>, reference: Map<string, string>, exported: boolean): string[] {
  const differing: string[] = [];
  for (const [key, text] of component) {
    const expected = reference.get(key);
    if (expected === undefined) differing.push(`${key} is not Enoki's`);
    else if (expected !== text) differing.push(`${key} has another type`);
  }
  if (exported) for (const key of reference.keys()) if (key.startsWith('function ') && !component.has(key)) differing.push(`${key} is missing`);
  if (differing.length === 0) return [];
  return [`interface ${name} has different types than Enoki's (built against another wit/ version?): ${differing.join(', ')}`];
}

export interface WorldCheckInput {
  /** Import and export names with their versions (e.g. wasi:http/types@0.2.10). */
  imports: string[];
  exports: string[];
  interfaceTypes: InterfaceTypes;
}

/**
 * The world a component targets: wasi:http/proxy when it exports a 0.2.x incoming-handler, else
 * Enoki's. Throws ERR_WRONG_WORLD listing every mismatch with that world.
 */
export function checkWorld(component: WorldCheckInput, reference: InterfaceTypes): WorldName {
  const problems: string[] = [];
  const httpHandler = httpHandlerExport(component.exports);
  const world: WorldName = httpHandler && !component.exports.includes(HANDLER_EXPORT) ? HTTP_WORLD : ENOKI_WORLD;
  const unsupported = component.imports.map((name) => importProblem(name)).filter((p) => p !== undefined);
  if (unsupported.length > 0) problems.push(`imports not provided by this node: ${unsupported.join(', ')}`);
  if (world === ENOKI_WORLD && !component.exports.includes(HANDLER_EXPORT)) {
    const found = component.exports.filter((e) => e.includes(':'));
    problems.push(
      `missing export ${HANDLER_EXPORT}, or wasi:http/incoming-handler@0.2.x for the ${HTTP_WORLD} world` +
        (found.length ? ` (exports: ${found.join(', ')})` : ' (exports nothing)'),
    );
  }
  for (const [name, text] of component.interfaceTypes) {
    const expected = reference.get(name);
    if (!name.startsWith('enoki:') || expected === undefined) continue;
    const exported = component.exports.includes(name);
    problems.push(...interfaceProblems(name, declarations(text), declarations(expected), exported));
  }
  if (problems.length > 0) {
    const target = world === HTTP_WORLD ? `${HTTP_WORLD} (it exports ${httpHandler})` : `${ENOKI_WORLD}@0.1.0 or ${HTTP_WORLD}@0.2.x`;
    throw new EnokiError('ERR_WRONG_WORLD', `the component does not target ${target}: ${problems.join('; ')}`, {
      problems,
      world,
    });
  }
  return world;
}
