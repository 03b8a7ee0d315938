// Deploy-time checks on uploaded bytes: is it WebAssembly, is it a component (not a core module),
// and does it target Enoki's function world. Every failure names what is wrong.

import { EnokiError } from '../errors.js';
import { WASI_PROVIDED } from '../exec/wasi.js';

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

export const HANDLER_EXPORT = 'enoki:faas/handler@0.1.0';

/**
 * Host imports a component may use, by exact name: Enoki's own interfaces and the sandboxed WASI
 * subset of exec/wasi.ts (no sockets, no HTTP, no files).
 */
const PROVIDED_IMPORTS = new Set([
  'enoki:faas/kv',
  'enoki:faas/atomics',
  'enoki:faas/log',
  'enoki:faas/env',
  'enoki:faas/invoke',
  'enoki:faas/types',
  ...WASI_PROVIDED,
]);

/** Interface type text as jco renders it, for comparing a component's types with Enoki's. */
export type InterfaceTypes = Map<string, string>;

export interface WorldCheckInput {
  imports: string[];
  exports: string[];
  interfaceTypes: InterfaceTypes;
}

/** Throws ERR_WRONG_WORLD listing every mismatch between a component and the function world. */
export function checkWorld(component: WorldCheckInput, reference: InterfaceTypes): void {
  const problems: string[] = [];
  // jco reports imports without their version; interfaceTypes below catches version drift.
  const unsupported = component.imports.filter((name) => !PROVIDED_IMPORTS.has(name.split('@')[0]));
  if (unsupported.length > 0) problems.push(`imports not provided by this node: ${unsupported.join(', ')}`);
  if (!component.exports.includes(HANDLER_EXPORT)) {
    const found = component.exports.filter((e) => e.includes(':'));
    problems.push(
      `missing export ${HANDLER_EXPORT}` + (found.length ? ` (exports: ${found.join(', ')})` : ' (exports nothing)'),
    );
  }
  for (const [name, text] of component.interfaceTypes) {
    const expected = reference.get(name);
    if (name.startsWith('enoki:') && expected !== undefined && expected !== text) {
      problems.push(`interface ${name} has different types than Enoki's (built against another wit/ version?)`);
    }
  }
  if (problems.length > 0) {
    throw new EnokiError('ERR_WRONG_WORLD', `the component does not target enoki:faas/function@0.1.0: ${problems.join('; ')}`, {
      problems,
    });
  }
}
