// A node started the way an operator starts one (`node dist/runtime/cli/main.js start`), in a
// child process with its own data directory and a known admin token; `nodeFlags` go to Node
// itself (e.g. the V8 flag Node 20 needs for Python guests). Always call stop().

import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOKEN } from './test-node.js';

export const CLI = fileURLToPath(new URL('../../runtime/cli/main.js', import.meta.url));

/** The test's own settings must not leak into the node's configuration. */
const STRAY_ENV = /^(PORT$|ENOKI_)/;

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name, value]) => !STRAY_ENV.test(name) && value !== undefined)) as Record<string, string>;
  return { ...env, ...extra };
}

export interface CliNode {
  url: string;
  admin(method: string, route: string, body?: BodyInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function startCliNode(nodeFlags: string[] = []): Promise<CliNode> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-cli-node-'));
  const child = spawn(process.execPath, [...nodeFlags, CLI, 'start', '--port', '0', '--data-dir', dataDir], {
    env: cleanEnv({ ENOKI_ADMIN_TOKEN: TOKEN, ENOKI_HOST: '127.0.0.1', ENOKI_LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the node did not start within 60 s:\n${output}`)), 60_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-8000);
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the node exited (code ${code}) during start:\n${output}`));
      });
    });
    return {
      url,
      admin: (method, route, body) => fetch(url + route, { method, body, headers: { authorization: `Bearer ${TOKEN}` } }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `enoki <args>` to completion (bounded by `timeoutMs`). */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`enoki ${args.join(' ')} did not finish within ${options.timeoutMs ?? 300_000} ms:\n${stderr}`));
    }, options.timeoutMs ?? 300_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
