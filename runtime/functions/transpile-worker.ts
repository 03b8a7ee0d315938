// Worker thread of IsolatedTranspiler (isolated-transpiler.ts): runs jco's transpile here, so the
// memory jco's own wasm grows to while reading a 12 MB component is given back to the system
// when the worker ends, instead of staying with the node for good.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { EnokiError } from '../errors.js';
import { Transpiler } from './transpiler.js';

const port = parentPort as MessagePort;
const transpiler = new Transpiler(workerData.witDir as string);

port.on('message', async ({ id, bytes }: { id: number; bytes: Uint8Array }) => {
  try {
    const out = await transpiler.transpile(bytes);
    const buffers = [...out.files.values()].map((b) => b.buffer as ArrayBuffer);
    port.postMessage({ id, out }, [...new Set(buffers)]);
  } catch (err) {
    const error =
      err instanceof EnokiError
        ? { code: err.code, message: err.message, details: err.details }
        : { code: 'ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
    port.postMessage({ id, error });
  }
});
