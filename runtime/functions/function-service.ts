// Management of functions: deploy (validate, transpile once, store by content, activate),
// rollback, describe and delete. Activation is a registry swap: calls already running finish on
// the version they started with, and new calls take the new one, so no request fails in between.

import type { Logger } from 'pino';
import type { ReplicaStore } from '../../replication/store/port.js';
import { validateKeygroupName } from '../../replication/store/version.js';
import { EnokiError } from '../errors.js';
import { codeKeyOf, instanceKeyOf, type CodeCache } from '../exec/worker/code-cache.js';
import type { GuestEngine } from '../exec/engine.js';
import type { KeygroupProvider } from '../kv/keygroups.js';
import type { InvocationLogs } from '../observe/invocation-logs.js';
import type { Metrics } from '../observe/metrics.js';
import { normalizeAllowedHosts } from './allowed-hosts.js';
import { ArtifactStore, digestOf } from './artifact-store.js';
import { checkComponentHeader } from './component-check.js';
import {
  activeVersion,
  checkFunctionName,
  type FunctionOptions,
  type FunctionRecord,
  type FunctionRegistry,
  type FunctionVersion,
} from './registry.js';
import type { Transpiler } from './transpiler.js';
import { worldOf, type WorldName } from './worlds.js';

export interface DeployOptions {
  keygroup?: string;
  /** Create the keygroup immutable (append-only) if it does not exist yet. */
  immutable?: boolean;
  /**
   * Serve the function's key-value calls from this node's replica of the keygroup, over FReD's
   * client API, instead of replicating the keygroup here (cluster mode).
   */
  kvNode?: string;
  timeoutMs?: number;
  memoryMiB?: number;
  env?: Record<string, string>;
  /** Hosts the function may reach with outgoing HTTP (see allowed-hosts.ts). */
  allowedHosts?: string[];
}

export interface FunctionLimits {
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  defaultMemoryMiB: number;
  maxMemoryMiB: number;
  maxComponentBytes: number;
}

export interface FunctionServiceDeps {
  registry: FunctionRegistry;
  artifacts: ArtifactStore;
  transpiler: Pick<Transpiler, 'transpile'>;
  code: CodeCache;
  pool: GuestEngine;
  store: ReplicaStore;
  keygroups: KeygroupProvider;
  metrics: Metrics;
  logs: InvocationLogs;
  limits: FunctionLimits;
  logger: Logger;
  /** Told the name of a function whose active version changed (deploy, rollback). */
  activated?: (name: string) => void;
}

/** The keygroup a function gets when none is named: its name without dashes. */
export function defaultKeygroup(name: string): string {
  return name.replace(/-/g, '');
}

function checkEnv(env: Record<string, string>): void {
  for (const [key, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || typeof value !== 'string') {
      throw new EnokiError('ERR_INVALID_OPTION', `invalid environment variable "${key}": names are letters, digits and _`);
    }
  }
}

export class FunctionService {
  constructor(private readonly deps: FunctionServiceDeps) {}

  #resolveOptions(name: string, requested: DeployOptions): FunctionOptions {
    const { limits } = this.deps;
    const keygroup = requested.keygroup ?? defaultKeygroup(name);
    try {
      validateKeygroupName(keygroup);
    } catch (err) {
      throw new EnokiError('ERR_INVALID_OPTION', (err as Error).message);
    }
    const timeoutMs = requested.timeoutMs ?? limits.defaultTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > limits.maxTimeoutMs) {
      throw new EnokiError('ERR_INVALID_OPTION', `timeout must be 1–${limits.maxTimeoutMs} ms`);
    }
    const memoryMiB = requested.memoryMiB ?? limits.defaultMemoryMiB;
    if (!Number.isInteger(memoryMiB) || memoryMiB < 1 || memoryMiB > limits.maxMemoryMiB) {
      throw new EnokiError('ERR_INVALID_OPTION', `memory must be 1–${limits.maxMemoryMiB} MiB`);
    }
    const env = requested.env ?? {};
    checkEnv(env);
    const { kvNode } = requested;
    // FReD's naming keys forbid '|' and control characters in node ids.
    // eslint-disable-next-line no-control-regex
    if (kvNode !== undefined && (kvNode === '' || kvNode.length > 256 || /[|\x00-\x1f]/.test(kvNode))) {
      throw new EnokiError('ERR_INVALID_OPTION', `invalid kvNode ${JSON.stringify(kvNode.slice(0, 80))}: a node id, non-empty, without '|' or control characters`);
    }
    const allowedHosts = normalizeAllowedHosts(requested.allowedHosts ?? []);
    return { keygroup, ...(kvNode !== undefined ? { kvNode } : {}), timeoutMs, memoryMiB, env, ...(allowedHosts.length > 0 && { allowedHosts }) };
  }

  /**
   * Deploys `bytes` as the new active version of `name`. The same bytes with the same options as
   * the active version change nothing: that version is returned with `unchanged: true`.
   */
  async deploy(name: string, bytes: Uint8Array, requested: DeployOptions = {}): Promise<FunctionVersion & { unchanged: boolean; world: WorldName }> {
    const { artifacts, transpiler, registry, logger } = this.deps;
    checkFunctionName(name);
    if (bytes.length > this.deps.limits.maxComponentBytes) {
      throw new EnokiError('ERR_BODY_TOO_LARGE', `the component is larger than ${this.deps.limits.maxComponentBytes} bytes`);
    }
    const options = this.#resolveOptions(name, requested);
    checkComponentHeader(bytes);
    const digest = digestOf(bytes);
    const meta = (await artifacts.get(digest)) ?? (await artifacts.put(bytes, await transpiler.transpile(bytes)));
    // What the first call would do once for every later one (its engine's template, say) is done
    // now; should it fail, the first call does it, and fails with the reason if it must.
    await this.deps.pool.prepare?.(meta).catch((err: unknown) => logger.warn({ fn: name, err }, 'the component could not be prepared at deploy'));
    // An existing keygroup (here or, in a cluster, elsewhere) is joined rather than created again.
    const { info, origin } = await this.deps.keygroups.ensure(options.keygroup, { mutable: !requested.immutable, kvNode: options.kvNode });
    if (origin !== 'created' && requested.immutable !== undefined && info.mutable === requested.immutable) {
      throw new EnokiError('ERR_INVALID_OPTION', `keygroup ${options.keygroup} already exists and is ${info.mutable ? 'mutable' : 'immutable'}`);
    }
    const previous = registry.get(name);
    const { version, created } = await registry.deployVersion(name, meta.digest, meta.size, options);
    if (!created) {
      logger.info({ fn: name, version: version.id, digest: digest.slice(0, 12) }, 'redeployed unchanged: the active version stays');
      return { ...version, unchanged: true, world: worldOf(meta) };
    }
    if (previous) this.#retire(name, activeVersion(previous));
    logger.info({ fn: name, version: version.id, digest: digest.slice(0, 12), keygroup: options.keygroup, kvNode: options.kvNode, keygroupOrigin: origin }, 'deployed');
    this.deps.activated?.(name);
    return { ...version, unchanged: false, world: worldOf(meta) };
  }

  async rollback(name: string, versionId?: string): Promise<FunctionVersion> {
    const before = activeVersion(this.deps.registry.require(name));
    const target = await this.deps.registry.activate(name, versionId);
    if (before.id !== target.id) this.#retire(name, before);
    this.deps.logger.info({ fn: name, from: before.id, to: target.id }, 'rolled back');
    this.deps.activated?.(name);
    return target;
  }

  /** Removes the function; with purgeData, its keygroup too unless another function uses it. */
  async remove(name: string, purgeData = false): Promise<{ purged: boolean }> {
    const { registry, store, metrics, logs } = this.deps;
    const record = await registry.remove(name);
    for (const version of record.versions) this.#retire(name, version);
    metrics.forget(name);
    logs.forget(name);
    const keygroup = activeVersion(record).options.keygroup;
    let purged = false;
    if (purgeData) {
      const users = registry.list().filter((r) => activeVersion(r).options.keygroup === keygroup);
      if (users.length > 0) {
        throw new EnokiError('ERR_KEYGROUP_IN_USE', `keygroup ${keygroup} is still used by ${users.map((u) => u.name).join(', ')}`);
      }
      if (await store.getKeygroup(keygroup)) {
        await this.deps.keygroups.drop(keygroup);
        purged = true;
      }
    }
    await this.deps.artifacts.collect(registry.liveDigests());
    return { purged };
  }

  list(): FunctionRecord[] {
    return this.deps.registry.list();
  }

  exists(name: string): boolean {
    return this.deps.registry.get(name) !== undefined;
  }

  describe(name: string): FunctionRecord & { stats: ReturnType<Metrics['summary']> } {
    return { ...this.deps.registry.require(name), stats: this.deps.metrics.summary(name) };
  }

  /**
   * Drops the warm instances of a version no longer active, and its compiled code unless an
   * active version shares it.
   */
  #retire(name: string, version: FunctionVersion): void {
    const memoryLimitBytes = version.options.memoryMiB * 1024 * 1024;
    this.deps.pool.evict(instanceKeyOf(name, version, memoryLimitBytes));
    const key = codeKeyOf(version.digest, memoryLimitBytes);
    const stillActive = this.deps.registry
      .list()
      .some((r) => {
        const v = activeVersion(r);
        return codeKeyOf(v.digest, v.options.memoryMiB * 1024 * 1024) === key;
      });
    if (!stillActive) this.deps.code.drop(key);
  }
}
