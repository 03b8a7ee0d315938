// Lets the build tools read WIT files: componentize-js's splicer and jco's wasm-tools are
// components themselves and read WIT through preview2-shim's WASI filesystem.

import path from 'node:path';

let granted: Promise<void> | undefined;

/**
 * preview2-shim starts with no preopens, so every WIT read fails with "os error 44". The tools
 * (wasi-libc inside) snapshot the preopen list on their first file access and never look again,
 * so a per-folder grant added later is invisible to them: the whole host filesystem is preopened
 * once, before the first build. That grant is process-wide; it is harmless here because no guest
 * is given wasi:filesystem (the node provides only enoki:faas imports). Added, not set, so
 * preopens configured by other code are kept. Returns the absolute path to give the tools.
 */
export async function grantWitAccess(witPath: string): Promise<string> {
  granted ??= import('@bytecodealliance/preview2-shim/filesystem').then((shim) => {
    // The package's "types" condition resolves to its browser typings; on Node the second
    // argument is a host path.
    (shim as unknown as { _addPreopen(virtualPath: string, hostPath: string): void })._addPreopen('/', '/');
  });
  await granted;
  return path.resolve(witPath);
}
