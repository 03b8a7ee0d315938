// A node run as a child process through the CLI (`enoki start`), as an operator runs one: it can
// be killed with SIGKILL and started again on the same data directory. Every wait is bounded, and
// children still running when the test process exits are killed.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../runtime/cli/main.js', import.meta.url));

// Settings of the test process itself must not leak into the node's configuration.
const STRAY_ENV = /^(PORT$|ENOKI_)/;
const START_TIMEOUT_MS = 20_000;

const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/**
 * Starts `enoki start --port 0 --data-dir <dataDir>` with `env`; resolves with its HTTP URL once it
 * listens. With `logFile`, the node's log (stdout) and stderr are appended there.
 */
export async function spawnNode(
  env: Record<string, string>,
  dataDir: string,
  options: { logFile?: string } = {},
): Promise<{ child: ChildProcess; url: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !STRAY_ENV.test(name)));
  const log = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--data-dir', dataDir], {
    env: { ...inherited, ...env },
    stdio: ['ignore', log, 'pipe'],
  });
  if (typeof log === 'number') {
    fs.closeSync(log);
    child.stderr!.on('data', (chunk: Buffer) => fs.appendFileSync(options.logFile!, chunk));
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  let output = ''; // the tail of stderr, to explain a failed start
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
      child.stderr!.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-8000);
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`node exited (code ${code}, signal ${signal}) during start:\n${output}`));
      });
    });
    return { child, url };
  } catch (error) {
    await killChild(child);
    throw error;
  }
}

/** SIGKILL, as a crash; resolves once the process is gone (bounded). */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`node process ${child.pid} survived SIGKILL for 5 s`)), 5_000);
  });
  child.kill('SIGKILL');
  try {
    await Promise.race([gone, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago (the OS picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
