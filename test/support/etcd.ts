// Starts a throwaway single-member etcd on loopback for tests (installing Debian's etcd-server if
// needed, when root); the finding, installing and starting live in runtime/cluster/local-etcd.ts.
import { findOrInstallEtcd as findOrInstall, startLocalEtcd } from '../../runtime/cluster/local-etcd.js';

export interface TestEtcd {
  /** Client URL, e.g. http://127.0.0.1:41234. */
  readonly endpoint: string;
  /** Kills the process (SIGKILL, as a crash would) but keeps the data dir, so restart() can resume it. */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data dir; resolves once it is healthy. */
  restart(): Promise<void>;
  /** Kills etcd and removes its data dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartEtcdOptions {
  /** Bound on waiting for /health after the start (ms). */
  startTimeoutMs?: number;
  /** Serve clients over TLS and require client certificates signed by caFile (paths to PEM files). */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

let installed: string | undefined;

/** Starts etcd on ports chosen now, with a temporary data dir; always pair with stop() (e.g. in a suite's `after`). */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<TestEtcd> {
  const etcd = await startLocalEtcd({ binary: findOrInstallEtcd(), startTimeoutMs: options.startTimeoutMs, tls: options.tls });
  return { endpoint: etcd.endpoint, kill: () => etcd.kill(), restart: () => etcd.restart(), stop: () => etcd.stop() };
}

/** The etcd binary: on PATH, in /usr/bin, or installed from Debian's etcd-server (root only). */
export function findOrInstallEtcd(): string {
  installed ??= findOrInstall({ env: process.env, install: true });
  return installed;
}
