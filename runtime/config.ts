// Node configuration: defaults, then environment variables, then explicit overrides (CLI flags).
// The only module that reads process.env.

import os from 'node:os';
import path from 'node:path';
import { EnokiError } from './errors.js';

export interface NodeConfig {
  /** HTTP port; 0 picks a free one. */
  port: number;
  host: string;
  /** Where the replica, the registry and the component artefacts live. */
  dataDir: string;
  /** Node id used in version vectors; stable across restarts (stored in the data directory). */
  nodeId?: string;
  /** Bearer token for the management API; generated and stored on first start when unset. */
  adminToken?: string;
  /** Largest request body accepted on invocation routes, bytes. */
  maxBodyBytes: number;
  /** Largest component accepted by deploy, bytes. */
  maxComponentBytes: number;
  /**
   * Where guests run: 'inline' on the event loop (metered, suspending through JSPI; needs Node
   * 24+), 'worker' on worker threads; 'auto' picks inline where JSPI exists. Components inline
   * cannot link (WASI imports) run on workers in any mode.
   */
  engine: 'auto' | 'inline' | 'worker';
  /** Time an inline guest runs before other work on the event loop gets a turn, ms. */
  timeSliceMs: number;
  /**
   * With engine 'auto': calls of a function that hold the event loop this long (ms, a moving
   * average) go to a worker when they would wait for the loop behind another; 0 (the default)
   * never.
   */
  offloadMs: number;
  /** Inline instances of one function version at most (each runs one call at a time). */
  instancesPerFunction: number;
  /** Worker threads executing guests, at most. */
  workers: number;
  /** Worker threads started with the node; the others start when concurrent calls need them. */
  minWorkers: number;
  /** A worker idle this long is stopped (down to minWorkers), ms; 0 keeps them. */
  workerIdleMs: number;
  /** Default and ceiling for a function's timeout, ms. */
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  /** Default and ceiling for a function instance's linear memory, MiB. */
  defaultMemoryMiB: number;
  maxMemoryMiB: number;
  /** Budget for all warm instances' linear memory together, MiB; least recently used go first. */
  instanceMemoryBudgetMiB: number;
  /** Invocations waiting for a worker before new ones get 503. */
  maxQueue: number;
  /** Longest chain of function-to-function calls, counted from the function a request started. */
  maxCallDepth: number;
  /** Workers the pool may start beyond `workers` for callees whose callers wait on a worker. */
  callWorkers: number;
  /** Where a guest's call goes when the function is not deployed here (ENOKI_FUNCTION_ROUTES). */
  functionRoutes: FunctionRoutes;
  /** Invocation log entries kept per function (each with the guest's output and any error). */
  logEntriesPerFunction: number;
  /** Log text one invocation keeps (guest lines beyond it are dropped and the entry marked truncated), bytes. */
  logBytesPerInvocation: number;
  /** Log text kept per function over all its entries; the oldest entries go first, bytes. */
  logBytesPerFunction: number;
  /** Load a warm instance of every function at start and after each deploy, in the background. */
  prewarm: boolean;
  /** Before listening, run calls of a built-in probe through the invocation path (warm-up/warm-up.ts). */
  warmUp: boolean;
  /** Idle this long, the node gives its grown heap back to the system (exec/idle-collector.ts), ms; 0: never. */
  idleCollectMs: number;
  /** Async invocations tracked at once (running and finished); beyond it the oldest finished go. */
  asyncResults: number;
  /** How long a finished async result is kept, ms. */
  asyncResultTtlMs: number;
  /** Largest response body an async invocation may leave as its result, bytes. */
  asyncResultMaxBytes: number;
  /** Disk space of all async results together (under <dataDir>/async-results), bytes. */
  asyncResultsDiskBytes: number;
  /**
   * Secret shared by the nodes that route calls to each other: a node signs the call headers it
   * sends (X-Enoki-Call-*) with it, and honours those headers only when signed with it (or sent
   * over mTLS with a node certificate). Unset: nothing is signed.
   */
  callSecret?: string;
  /** How old (or how far ahead) a call signature may be, ms; a signature is accepted once. */
  callSignatureWindowMs: number;
  /** Interval of the purge of expired key-value items, ms; 0 turns it off. */
  purgeIntervalMs: number;
  /** fsync every commit (power-loss durability) instead of relying on the OS page cache. */
  fsync: boolean;
  logLevel: string;
  /** Cluster mode: set by ENOKI_ETCD; without it the node is standalone. */
  cluster?: ClusterConfig;
  /** HTTPS for the HTTP API with the node's certificate; 'mtls' also requires client certificates of the CA. */
  httpTls?: { mode: 'tls' | 'mtls'; certsDir: string };
}

/** Base URLs (http(s)://host:port[/prefix]) of nodes that run functions this node does not have. */
export interface FunctionRoutes {
  byName: Record<string, string>;
  /** For every other name (`*=url`). */
  fallback?: string;
}

export interface ClusterConfig {
  /** etcd endpoints (https://host:port) of the naming service. */
  etcd: string[];
  /** ca.pem and <node id>.pem / <node id>-key.pem, as `enoki certs` writes them. */
  certsDir: string;
  /** Port of the FReD peering API (node to node). */
  peeringPort: number;
  /** Port of the FReD client API. */
  clientApiPort: number;
  /** Host other nodes and clients reach this node at (must be a SAN of its certificate). */
  advertiseHost: string;
  /** Node id that replicates every keygroup this node creates (the cloud node of the paper). */
  cloudNode?: string;
  /** 'sync' (FReD's default): a write is acknowledged once reachable replicas have it. */
  replicationMode: 'sync' | 'async';
  /** Seconds between anti-entropy rounds. */
  antiEntropySeconds: number;
  /** User (client certificate CN) given every role on keygroups this node creates for functions. */
  keygroupOwner?: string;
  /** Deadline of each key-value call a function makes on another node's replica (kvNode), ms. Default 2000. */
  remoteKvDeadlineMs?: number;
  /** Serve a client-API caller only from an address its certificate names as an IP SAN (as FReD). Default true. */
  checkClientAddress?: boolean;
}

export const DEFAULT_REMOTE_KV_DEADLINE_MS = 2000;

/**
 * The default budget for warm instances' linear memory: a quarter of the memory the process may
 * use — its cgroup's limit where it has one (a container, `systemd-run -p MemoryMax=`), else the
 * machine's — between 64 MiB and 1 GiB. `constrained` is process.constrainedMemory(): 0, or a
 * huge number, when there is no limit.
 */
export function instanceBudgetMiB(totalBytes: number, constrainedBytes: number): number {
  const available = constrainedBytes > 0 && constrainedBytes < totalBytes ? constrainedBytes : totalBytes;
  return Math.max(64, Math.min(1024, Math.floor(available / 4 / (1024 * 1024))));
}

export const DEFAULTS: NodeConfig = {
  port: 8080,
  host: '0.0.0.0',
  dataDir: path.resolve('.enoki'),
  maxBodyBytes: 6 * 1024 * 1024,
  maxComponentBytes: 64 * 1024 * 1024,
  engine: 'auto',
  timeSliceMs: 5,
  // Off unless asked for: see ENOKI_OFFLOAD_MS in the README.
  offloadMs: 0,
  instancesPerFunction: 8,
  workers: Math.max(1, Math.min(os.availableParallelism(), 4)),
  minWorkers: 1,
  workerIdleMs: 60_000,
  defaultTimeoutMs: 10_000,
  maxTimeoutMs: 300_000,
  defaultMemoryMiB: 128,
  maxMemoryMiB: 2048,
  instanceMemoryBudgetMiB: instanceBudgetMiB(os.totalmem(), process.constrainedMemory?.() ?? 0),
  maxQueue: 1000,
  maxCallDepth: 8,
  callWorkers: 8,
  functionRoutes: { byName: {} },
  logEntriesPerFunction: 200,
  logBytesPerInvocation: 1024 * 1024,
  logBytesPerFunction: 16 * 1024 * 1024,
  prewarm: true,
  warmUp: true,
  idleCollectMs: 2000,
  asyncResults: 10_000,
  asyncResultTtlMs: 10 * 60_000,
  asyncResultMaxBytes: 64 * 1024 * 1024,
  asyncResultsDiskBytes: 1024 * 1024 * 1024,
  callSignatureWindowMs: 30_000,
  purgeIntervalMs: 60_000,
  fsync: false,
  logLevel: 'info',
};

const ENV: Record<string, { key: keyof NodeConfig; type: 'int' | 'string' | 'bool' }> = {
  PORT: { key: 'port', type: 'int' },
  ENOKI_HOST: { key: 'host', type: 'string' },
  ENOKI_DATA_DIR: { key: 'dataDir', type: 'string' },
  ENOKI_NODE_ID: { key: 'nodeId', type: 'string' },
  ENOKI_ADMIN_TOKEN: { key: 'adminToken', type: 'string' },
  ENOKI_MAX_BODY_BYTES: { key: 'maxBodyBytes', type: 'int' },
  ENOKI_MAX_COMPONENT_BYTES: { key: 'maxComponentBytes', type: 'int' },
  ENOKI_ENGINE: { key: 'engine', type: 'string' },
  ENOKI_TIME_SLICE_MS: { key: 'timeSliceMs', type: 'int' },
  ENOKI_OFFLOAD_MS: { key: 'offloadMs', type: 'int' },
  ENOKI_INSTANCES_PER_FUNCTION: { key: 'instancesPerFunction', type: 'int' },
  ENOKI_WORKERS: { key: 'workers', type: 'int' },
  ENOKI_MIN_WORKERS: { key: 'minWorkers', type: 'int' },
  ENOKI_WORKER_IDLE_MS: { key: 'workerIdleMs', type: 'int' },
  ENOKI_TIMEOUT_MS: { key: 'defaultTimeoutMs', type: 'int' },
  ENOKI_MAX_TIMEOUT_MS: { key: 'maxTimeoutMs', type: 'int' },
  ENOKI_MEMORY_MIB: { key: 'defaultMemoryMiB', type: 'int' },
  ENOKI_MAX_MEMORY_MIB: { key: 'maxMemoryMiB', type: 'int' },
  ENOKI_INSTANCE_MEMORY_BUDGET_MIB: { key: 'instanceMemoryBudgetMiB', type: 'int' },
  ENOKI_MAX_QUEUE: { key: 'maxQueue', type: 'int' },
  ENOKI_MAX_CALL_DEPTH: { key: 'maxCallDepth', type: 'int' },
  ENOKI_CALL_WORKERS: { key: 'callWorkers', type: 'int' },
  ENOKI_FSYNC: { key: 'fsync', type: 'bool' },
  ENOKI_PREWARM: { key: 'prewarm', type: 'bool' },
  ENOKI_WARM_UP: { key: 'warmUp', type: 'bool' },
  ENOKI_IDLE_COLLECT_MS: { key: 'idleCollectMs', type: 'int' },
  ENOKI_LOG_LEVEL: { key: 'logLevel', type: 'string' },
  ENOKI_LOG_ENTRIES_PER_FUNCTION: { key: 'logEntriesPerFunction', type: 'int' },
  ENOKI_LOG_BYTES_PER_INVOCATION: { key: 'logBytesPerInvocation', type: 'int' },
  ENOKI_LOG_BYTES_PER_FUNCTION: { key: 'logBytesPerFunction', type: 'int' },
  ENOKI_ASYNC_RESULTS: { key: 'asyncResults', type: 'int' },
  ENOKI_ASYNC_RESULT_TTL_MS: { key: 'asyncResultTtlMs', type: 'int' },
  ENOKI_ASYNC_RESULT_MAX_BYTES: { key: 'asyncResultMaxBytes', type: 'int' },
  ENOKI_ASYNC_RESULTS_DISK_BYTES: { key: 'asyncResultsDiskBytes', type: 'int' },
  ENOKI_CALL_SECRET: { key: 'callSecret', type: 'string' },
  ENOKI_CALL_SIGNATURE_WINDOW_MS: { key: 'callSignatureWindowMs', type: 'int' },
  ENOKI_PURGE_INTERVAL_MS: { key: 'purgeIntervalMs', type: 'int' },
};

const FUNCTION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function routeUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EnokiError('ERR_INVALID_OPTION', `ENOKI_FUNCTION_ROUTES: the route of ${name} is not a URL: "${raw}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username) {
    throw new EnokiError('ERR_INVALID_OPTION', `ENOKI_FUNCTION_ROUTES: the route of ${name} must be http(s)://host[:port][/prefix], got "${raw}"`);
  }
  return url.href.replace(/\/+$/, '');
}

/** "name=url,other=url,*=url": a route per function name, `*` for every other name. */
export function parseFunctionRoutes(text: string): FunctionRoutes {
  const routes: FunctionRoutes = { byName: {} };
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, Math.max(eq, 0)).trim();
    if (eq <= 0 || (name !== '*' && !FUNCTION_NAME.test(name))) {
      throw new EnokiError('ERR_INVALID_OPTION', `ENOKI_FUNCTION_ROUTES entries are function=url (or *=url), got "${entry}"`);
    }
    const url = routeUrl(name, entry.slice(eq + 1).trim());
    if (name === '*') routes.fallback = url;
    else routes.byName[name] = url;
  }
  return routes;
}

const CLUSTER_ENV = ['ENOKI_ETCD', 'ENOKI_CERTS_DIR', 'ENOKI_PEERING_PORT', 'ENOKI_CLIENT_API_PORT', 'ENOKI_ADVERTISE_HOST', 'ENOKI_CLOUD_NODE', 'ENOKI_REPLICATION_MODE', 'ENOKI_ANTI_ENTROPY_SECONDS', 'ENOKI_KEYGROUP_OWNER', 'ENOKI_REMOTE_KV_DEADLINE_MS', 'ENOKI_CHECK_CLIENT_ADDRESS'];

function clusterFromEnv(env: NodeJS.ProcessEnv, dataDir: string): ClusterConfig | undefined {
  const etcd = (env.ENOKI_ETCD ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  if (etcd.length === 0) {
    // ENOKI_CERTS_DIR also serves ENOKI_HTTP_TLS on a standalone node.
    const stray = CLUSTER_ENV.filter((name) => env[name] && !(name === 'ENOKI_CERTS_DIR' && env.ENOKI_HTTP_TLS));
    if (stray.length > 0) throw new EnokiError('ERR_INVALID_OPTION', `${stray.join(', ')} need ENOKI_ETCD (cluster mode)`);
    return undefined;
  }
  const int = (name: string, fallback: number) => (env[name] ? (parseValue(name, env[name] as string, 'int') as number) : fallback);
  const mode = env.ENOKI_REPLICATION_MODE ?? 'sync';
  if (mode !== 'sync' && mode !== 'async') throw new EnokiError('ERR_INVALID_OPTION', `ENOKI_REPLICATION_MODE must be sync or async, got "${mode}"`);
  return {
    etcd,
    certsDir: path.resolve(env.ENOKI_CERTS_DIR ?? path.join(dataDir, 'certs')),
    peeringPort: int('ENOKI_PEERING_PORT', 5555),
    clientApiPort: int('ENOKI_CLIENT_API_PORT', 9001),
    advertiseHost: env.ENOKI_ADVERTISE_HOST ?? '127.0.0.1',
    cloudNode: env.ENOKI_CLOUD_NODE || undefined,
    replicationMode: mode,
    antiEntropySeconds: int('ENOKI_ANTI_ENTROPY_SECONDS', 30),
    keygroupOwner: env.ENOKI_KEYGROUP_OWNER || undefined,
    remoteKvDeadlineMs: int('ENOKI_REMOTE_KV_DEADLINE_MS', DEFAULT_REMOTE_KV_DEADLINE_MS),
    checkClientAddress: env.ENOKI_CHECK_CLIENT_ADDRESS ? (parseValue('ENOKI_CHECK_CLIENT_ADDRESS', env.ENOKI_CHECK_CLIENT_ADDRESS, 'bool') as boolean) : true,
  };
}

function parseValue(name: string, raw: string, type: 'int' | 'string' | 'bool'): unknown {
  if (type === 'string') return raw;
  if (type === 'bool') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new EnokiError('ERR_INVALID_OPTION', `${name} must be true or false, got "${raw}"`);
  }
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new EnokiError('ERR_INVALID_OPTION', `${name} must be a non-negative integer, got "${raw}"`);
  }
  return n;
}

export function loadConfig(
  overrides: Partial<NodeConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): NodeConfig {
  const fromEnv: Partial<NodeConfig> = {};
  for (const [name, { key, type }] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') (fromEnv as Record<string, unknown>)[key] = parseValue(name, raw, type);
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const config: NodeConfig = { ...DEFAULTS, ...fromEnv, ...defined };
  config.dataDir = path.resolve(config.dataDir);
  if (!('httpTls' in defined)) {
    const mode = env.ENOKI_HTTP_TLS ?? 'off';
    if (mode !== 'off' && mode !== 'tls' && mode !== 'mtls') {
      throw new EnokiError('ERR_INVALID_OPTION', `ENOKI_HTTP_TLS must be off, tls or mtls, got "${mode}"`);
    }
    if (mode !== 'off') config.httpTls = { mode, certsDir: path.resolve(env.ENOKI_CERTS_DIR ?? path.join(config.dataDir, 'certs')) };
  }
  if (!('functionRoutes' in defined) && env.ENOKI_FUNCTION_ROUTES) config.functionRoutes = parseFunctionRoutes(env.ENOKI_FUNCTION_ROUTES);
  if (!('cluster' in defined)) {
    const cluster = clusterFromEnv(env, config.dataDir);
    if (cluster) config.cluster = cluster;
  }
  const invalid = (message: string) => new EnokiError('ERR_INVALID_OPTION', message);
  if (config.port > 65535) throw invalid(`PORT must be at most 65535, got ${config.port}`);
  if (!['auto', 'inline', 'worker'].includes(config.engine)) throw invalid('ENOKI_ENGINE must be auto, inline or worker');
  if (config.timeSliceMs < 1) throw invalid('ENOKI_TIME_SLICE_MS must be at least 1');
  if (config.offloadMs < 0) throw invalid('ENOKI_OFFLOAD_MS must be 0 (off) or more');
  if (config.instancesPerFunction < 1) throw invalid('ENOKI_INSTANCES_PER_FUNCTION must be at least 1');
  if (config.workers < 1) throw invalid('ENOKI_WORKERS must be at least 1');
  if (config.minWorkers < 1 || config.minWorkers > config.workers) throw invalid('ENOKI_MIN_WORKERS must be between 1 and ENOKI_WORKERS');
  if (config.defaultTimeoutMs < 1 || config.defaultTimeoutMs > config.maxTimeoutMs) {
    throw invalid(`ENOKI_TIMEOUT_MS must be 1–${config.maxTimeoutMs} (ENOKI_MAX_TIMEOUT_MS), got ${config.defaultTimeoutMs}`);
  }
  if (config.cluster?.remoteKvDeadlineMs !== undefined && !(config.cluster.remoteKvDeadlineMs >= 1)) throw invalid('ENOKI_REMOTE_KV_DEADLINE_MS must be at least 1');
  if (config.defaultMemoryMiB < 1 || config.defaultMemoryMiB > config.maxMemoryMiB) {
    throw invalid(`ENOKI_MEMORY_MIB must be 1–${config.maxMemoryMiB} (ENOKI_MAX_MEMORY_MIB), got ${config.defaultMemoryMiB}`);
  }
  if (config.logEntriesPerFunction < 1) throw invalid('ENOKI_LOG_ENTRIES_PER_FUNCTION must be at least 1');
  if (config.logBytesPerInvocation < 1) throw invalid('ENOKI_LOG_BYTES_PER_INVOCATION must be at least 1');
  if (config.logBytesPerFunction < config.logBytesPerInvocation) throw invalid('ENOKI_LOG_BYTES_PER_FUNCTION must be at least ENOKI_LOG_BYTES_PER_INVOCATION');
  if (config.asyncResults < 1) throw invalid('ENOKI_ASYNC_RESULTS must be at least 1');
  if (config.asyncResultTtlMs < 1) throw invalid('ENOKI_ASYNC_RESULT_TTL_MS must be at least 1');
  // Evicting every finished result must always make room for one more of the largest size.
  if (config.asyncResultsDiskBytes < config.asyncResultMaxBytes) {
    throw invalid(`ENOKI_ASYNC_RESULTS_DISK_BYTES (${config.asyncResultsDiskBytes}) must be at least ENOKI_ASYNC_RESULT_MAX_BYTES (${config.asyncResultMaxBytes})`);
  }
  // A short secret is one an attacker can guess, and guessing it lets any client steer scheduling.
  if (config.callSecret !== undefined && config.callSecret.length < 16) throw invalid('ENOKI_CALL_SECRET must be at least 16 characters');
  if (config.callSignatureWindowMs < 1) throw invalid('ENOKI_CALL_SIGNATURE_WINDOW_MS must be at least 1');
  return config;
}

/** Environment variable names and what they set, for `enoki start --help` and the README. */
export const ENV_VARS = {
  ...Object.fromEntries(Object.entries(ENV).map(([name, { key }]) => [name, key])),
  ...Object.fromEntries(CLUSTER_ENV.map((name) => [name, 'cluster'])),
  ENOKI_HTTP_TLS: 'httpTls',
  ENOKI_FUNCTION_ROUTES: 'functionRoutes',
};

export interface ClientConfig {
  url: string;
  /** Token from --token, ENOKI_ADMIN_TOKEN, or the local node's data directory. */
  token?: string;
  dataDir: string;
}

/** Where CLI commands other than `start` find the node. */
export function loadClientConfig(overrides: { url?: string; token?: string; dataDir?: string }, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  return {
    url: (overrides.url ?? env.ENOKI_URL ?? `http://127.0.0.1:${env.PORT ?? DEFAULTS.port}`).replace(/\/+$/, ''),
    token: overrides.token ?? (env.ENOKI_ADMIN_TOKEN || undefined),
    dataDir: path.resolve(overrides.dataDir ?? env.ENOKI_DATA_DIR ?? DEFAULTS.dataDir),
  };
}

/** Where the guest build finds the tools it installs itself (the Python toolchain). */
export interface ToolConfig {
  /** A folder for tools installed on first use: $ENOKI_CACHE_DIR, else $XDG_CACHE_HOME/enoki, else ~/.cache/enoki. */
  cacheDir: string;
  /** The Python (3.10 or later, with venv and pip) that installs them: $ENOKI_PYTHON, else `python3`. */
  python: string;
  /** The environment the tools run in. */
  env: NodeJS.ProcessEnv;
}

export function loadToolConfig(env: NodeJS.ProcessEnv = process.env): ToolConfig {
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return {
    cacheDir: path.resolve(env.ENOKI_CACHE_DIR || path.join(cacheHome, 'enoki')),
    python: env.ENOKI_PYTHON || 'python3',
    env: { ...env },
  };
}
