// An `enoki start` node as a child process: spawned with its own environment, ready once it prints
// its URL, stopped with SIGTERM. Used by `enoki cluster` and the replication bench.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));

/**
 * glibc's malloc raises its mmap threshold after large frees, so the 12 MB buffers of component
 * deploys then come from the heap and are never given back: a node ends up 200–300 MiB larger
 * after a few deploys. A fixed threshold keeps large buffers in their own mappings, returned to
 * the system when freed. Two arenas instead of one per thread (libuv's pool, jco's transpiler
 * thread, workers) keep what those threads freed from staying resident in arenas of their own.
 * Set for every node this CLI starts (and by npm start); a caller's own setting wins.
 */
export const MALLOC_SETTINGS = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' } as const;

export interface NodeProcessOptions {
  /** Name used in messages (the node id). */
  name: string;
  /** Arguments after `enoki start`. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The node's stdout (pino's JSON log) and stderr are appended here; otherwise dropped. */
  logFile?: string;
  /** Own process group: a terminal's Ctrl-C reaches only the parent, which stops the node in order. */
  ownProcessGroup?: boolean;
  /** Bound on the start, including the deploy of examples (ms). */
  startTimeoutMs?: number;
  /** Aborting during the start stops the node and rejects. */
  signal?: AbortSignal;
}

export interface NodeProcess {
  readonly name: string;
  readonly pid: number;
  /** http://host:port of the node's HTTP API. */
  readonly url: string;
  /** host:port of the FReD client API and of peering, in cluster mode. */
  readonly clientApi?: string;
  readonly peering?: string;
  /** Settles when the process exits, for whatever reason. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (a clean shutdown), SIGKILL if still running after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export class NodeStartError extends Error {
  readonly code = 'ERR_NODE_START';
}

export async function spawnNode(options: NodeProcessOptions): Promise<NodeProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'start', ...options.args], {
    env: { ...MALLOC_SETTINGS, ...options.env },
    stdio: ['ignore', options.logFile ? 'pipe' : 'ignore', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  const log: WriteStream | undefined = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  child.stdout?.on('data', (chunk: Buffer) => log?.write(chunk));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log?.write(chunk);
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close' comes after the process exited and its pipes drained, so the last lines are logged.
    child.once('close', (code, signal) => {
      const done = () => resolve({ code, signal });
      if (log) log.end(done);
      else done();
    });
  });

  const tail = () => stderr.trim().split('\n').slice(-15).join('\n') || '(no output)';
  const where = options.logFile ? ` (log: ${options.logFile})` : '';
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (/listening on (\S+)/.test(stderr)) resolve();
      };
      child.stderr!.on('data', check);
      child.once('error', (err) => reject(new NodeStartError(`could not run node ${options.name}: ${err.message}`)));
      void exited.then(({ code, signal }) =>
        reject(new NodeStartError(`node ${options.name} exited during start (code ${code}, signal ${signal})${where}:\n${tail()}`)),
      );
      timer = setTimeout(() => reject(new NodeStartError(`node ${options.name} not ready after ${timeoutMs} ms${where}:\n${tail()}`)), timeoutMs);
      if (options.signal?.aborted) reject(new NodeStartError(`start of node ${options.name} cancelled`));
      options.signal?.addEventListener('abort', () => reject(new NodeStartError(`start of node ${options.name} cancelled`)), { once: true });
    });
  } catch (err) {
    // Before it is ready a node has no signal handler yet, so SIGTERM ends it at once.
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const url = /listening on (\S+)/.exec(stderr)![1];
  const cluster = /FReD client API on (\S+), peering on (\S+)/.exec(stderr);
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid: child.pid!,
    url,
    clientApi: cluster?.[1],
    peering: cluster?.[2],
    exited,
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
