// Warming up the invocation path. The first call a node serves after a start runs its HTTP
// server, invocation route, invoker, engine router, inline engine and canonical-ABI code for the
// first time, and V8 compiles all of that as it goes: ~4 ms of a tiny guest's 6 on the bench
// machine, paid by whichever call comes first. Before it listens, the node therefore makes calls
// of its own probe guest (probe.wat) through that path, over HTTP on a loopback port of its own,
// with the same classes but collaborators of its own: the probe's registry, artefact, key-value
// store, metrics and logs are not the node's, so nothing of the warm-up is visible to its
// clients, and no deployed function runs. Its files (the probe's component, its inline record
// and its compiled template) are kept under <data dir>/warm-up/.
//
// Only with the inline engine: the worker engine runs guests on other threads, whose code a call
// here would not warm, and would have to start a worker for it.

import fs from 'node:fs/promises';
import type { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { MemoryReplicaStore } from '../../replication/store/memory-store.js';
import { EngineRouter } from '../exec/engine-router.js';
import type { InlineEngine } from '../exec/inline/inline-engine.js';
import { CodeCache } from '../exec/worker/code-cache.js';
import { ArtifactStore, digestOf, type ArtifactMeta } from '../functions/artifact-store.js';
import type { FunctionRecord, FunctionVersion } from '../functions/registry.js';
import { EnokiError } from '../errors.js';
import type { CallTrust } from '../http/call-trust.js';
import http from '../node-http.js';
import { serveHttp } from '../http/server/serve.js';
import { invocationRoutes, type InvocationRouteDeps } from '../http/invocation-routes.js';
import type { InvocationKvLimits } from '../kv/invocation-kv.js';
import { NO_REPLICATION } from '../kv/keygroups.js';
import { LocalKvBackends } from '../kv/kv-backend.js';
import { Invoker } from '../invoke/invoker.js';
import { InvocationLogs } from '../observe/invocation-logs.js';
import { Metrics } from '../observe/metrics.js';

/** The probe's component, built next to the compiled warm-up.js by `npm run build` (build-probe.ts). */
export const PROBE_FILE = fileURLToPath(new URL('./probe.wasm', import.meta.url));
const PROBE = 'warmup';
/** The body the probe is sent, and answers with. */
const BODY = 'warm-up';
/**
 * Calls made. The second and third run what the first compiled with the type feedback it
 * gathered, as a node's next calls do.
 */
const CALLS = 3;
/**
 * Rounds of those calls, each with an engine of its own (its own code records and templates, read
 * from the same files): a function's first call loads its code, which each round does once, and
 * the second round runs that loading with what V8 learnt in the first, as a node's first call of
 * a function then does.
 */
const ROUNDS = 2;

export interface WarmUpDeps {
  /** <data dir>/warm-up */
  dir: string;
  /** The probe's component; PROBE_FILE unless a test says otherwise. */
  probeFile?: string;
  /** An inline engine like the node's, over other components and templates; undefined without one. */
  inlineEngine(artifactDir: (digest: string) => string, templatesDir: string): InlineEngine | undefined;
  /** The node's own, passed to the routes; a synchronous call of the probe uses neither. */
  async: InvocationRouteDeps['async'];
  access: InvocationRouteDeps['access'];
  kvLimits: InvocationKvLimits;
  logBytesPerInvocation: number;
  maxBodyBytes: number;
  maxCallDepth: number;
  logger: Logger;
}

export type WarmUpResult = { warmed: true; ms: number } | { warmed: false; reason: string };

/** The probe's component under `dir`, written there on the first start that needs it. */
async function probeArtefact(dir: string, file: string): Promise<ArtifactMeta | undefined> {
  const bytes = await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!bytes) return undefined;
  const digest = digestOf(bytes);
  const root = path.join(dir, 'components');
  const own = path.join(root, digest);
  if (!(await fs.stat(path.join(own, 'component.wasm')).catch(() => undefined))) {
    // A probe of an earlier build goes: only the current one is ever run.
    await fs.rm(root, { recursive: true, force: true });
    await fs.mkdir(own, { recursive: true });
    await fs.writeFile(path.join(own, 'component.wasm'), bytes);
  }
  // Nothing for a worker (no transpiled glue): the probe runs inline or not at all.
  return { digest, size: bytes.length, glueFile: '', coreFiles: [], imports: [] };
}

/** One call of the probe over HTTP. */
function post(port: number, agent: Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/fn/${PROBE}`, agent, headers: { 'content-type': 'text/plain' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(BODY);
  });
}

export async function warmUp(deps: WarmUpDeps): Promise<WarmUpResult> {
  const started = performance.now();
  const file = deps.probeFile ?? PROBE_FILE;
  const meta = await probeArtefact(deps.dir, file);
  if (!meta) return { warmed: false, reason: `the probe is not built (${file}; \`npm run build\` builds it)` };
  for (let round = 0; round < ROUNDS; round++) {
    const reason = await warmUpRound(deps, meta);
    if (reason) return { warmed: false, reason };
  }
  return { warmed: true, ms: performance.now() - started };
}

/** One round: a fresh engine, its calls of the probe over HTTP. Resolves to why it failed, if it did. */
async function warmUpRound(deps: WarmUpDeps, meta: ArtifactMeta): Promise<string | undefined> {
  const root = path.join(deps.dir, 'components');
  const inline = deps.inlineEngine((digest) => path.join(root, digest), path.join(deps.dir, 'templates'));
  if (!inline) return 'no inline engine (ENOKI_ENGINE=worker, or a Node without JSPI)';
  const engine = new EngineRouter(inline, () => {
    throw new EnokiError('ERR_INTERNAL', 'the warm-up probe runs on the inline engine only');
  });
  const version: FunctionVersion = {
    id: 'v1',
    digest: meta.digest,
    size: meta.size,
    deployedAt: new Date(0).toISOString(),
    options: { keygroup: PROBE, timeoutMs: 10_000, memoryMiB: 16, env: {} },
  };
  const record: FunctionRecord = { name: PROBE, createdAt: version.deployedAt, active: version.id, versions: [version], nextVersion: 2 };
  const store = new MemoryReplicaStore({ nodeId: 'warmup' });
  await store.open();
  await store.createKeygroup({ name: PROBE, mutable: true, expiry: 0 });
  try {
    if ((await engine.engineOf({ meta })) !== 'inline') return 'the inline engine cannot link the probe';
    const invoker = new Invoker({
      registry: {
        get: (name) => (name === PROBE ? record : undefined),
        require: (name) => {
          if (name !== PROBE) throw new EnokiError('ERR_FUNCTION_NOT_FOUND', `no function named "${name}"`);
          return record;
        },
      },
      artifacts: { cached: (digest) => (digest === meta.digest ? meta : undefined), get: async (digest) => (digest === meta.digest ? meta : undefined) },
      code: new CodeCache(new ArtifactStore(root)),
      engine,
      metrics: new Metrics(),
      logs: new InvocationLogs(CALLS, deps.logBytesPerInvocation),
      kvLimits: deps.kvLimits,
      logBytesPerInvocation: deps.logBytesPerInvocation,
      kvBackends: new LocalKvBackends(store),
      replicator: NO_REPLICATION,
      logger: deps.logger,
      maxBodyBytes: deps.maxBodyBytes,
    });
    const trust: CallTrust = {};
    const app = new Hono().route(
      '/',
      invocationRoutes({
        invoker,
        async: deps.async,
        access: deps.access,
        trust,
        exists: (name) => name === PROBE,
        hasRoom: () => true,
        maxBodyBytes: deps.maxBodyBytes,
        maxCallDepth: deps.maxCallDepth,
      }),
    );
    const server = await serveHttp(app.fetch, { port: 0, hostname: '127.0.0.1', onError: (err) => deps.logger.debug({ err }, 'warm-up: a response could not be written') });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const { port } = server.address() as AddressInfo;
      for (let i = 0; i < CALLS; i++) {
        const { status, text } = await post(port, agent);
        if (status !== 200 || text !== BODY) return `the probe answered ${status}: ${text.slice(0, 200)}`;
      }
    } finally {
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
    return undefined;
  } finally {
    await engine.stop();
    await store.close();
  }
}
