// The node's function registry: every function, its versions and the active one, persisted as
// one JSON document replaced atomically (write, fsync, rename), so that after a restart or a
// crash every acknowledged deploy answers again.

import fs from 'node:fs/promises';
import { writeFileAtomic } from '../../replication/support/atomic-file.js';
import path from 'node:path';
import { EnokiError } from '../errors.js';

export interface FunctionOptions {
  keygroup: string;
  /** Node whose replica serves the keygroup; absent: this node's own replica. */
  kvNode?: string;
  timeoutMs: number;
  memoryMiB: number;
  env: Record<string, string>;
  /** Hosts the function may reach with outgoing HTTP (allowed-hosts.ts); absent: none. */
  allowedHosts?: string[];
}

export interface FunctionVersion {
  /** v1, v2, … in deploy order; not reused while the function exists (a removed one starts over). */
  id: string;
  digest: string;
  size: number;
  deployedAt: string;
  options: FunctionOptions;
}

export interface FunctionRecord {
  name: string;
  createdAt: string;
  active: string;
  /** Oldest first; bounded by the registry's history length. */
  versions: FunctionVersion[];
  nextVersion: number;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function checkFunctionName(name: string): void {
  if (!NAME.test(name)) {
    throw new EnokiError(
      'ERR_INVALID_NAME',
      `invalid function name "${name.slice(0, 80)}": use 1–63 lowercase letters, digits and dashes, starting with a letter or digit`,
    );
  }
}

/**
 * Code-unit order. For function names ([a-z0-9-]) it is the order localeCompare gives, without
 * ICU's collation data, which would cost an idle node ~3 MiB of resident memory.
 */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Two versions' options are the same deploy: same keygroup, kvNode, limits and environment. */
export function sameOptions(a: FunctionOptions, b: FunctionOptions): boolean {
  const envA = Object.entries(a.env).sort(([x], [y]) => byCodeUnits(x, y));
  const envB = Object.entries(b.env).sort(([x], [y]) => byCodeUnits(x, y));
  const hostsA = a.allowedHosts ?? [];
  const hostsB = b.allowedHosts ?? [];
  return (
    hostsA.length === hostsB.length &&
    hostsA.every((host, i) => hostsB[i] === host) &&
    a.keygroup === b.keygroup &&
    a.kvNode === b.kvNode &&
    a.timeoutMs === b.timeoutMs &&
    a.memoryMiB === b.memoryMiB &&
    envA.length === envB.length &&
    envA.every(([key, value], i) => envB[i][0] === key && envB[i][1] === value)
  );
}

export function activeVersion(record: FunctionRecord): FunctionVersion {
  const version = record.versions.find((v) => v.id === record.active);
  if (!version) throw new EnokiError('ERR_INTERNAL', `function ${record.name} has no active version`);
  return version;
}

export class FunctionRegistry {
  readonly #functions = new Map<string, FunctionRecord>();
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly history = 10,
  ) {
    if (!Number.isInteger(history) || history < 1) throw new RangeError('the registry keeps at least one version');
  }

  async load(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const doc = JSON.parse(text) as { functions: FunctionRecord[] };
    for (const record of doc.functions) this.#functions.set(record.name, record);
  }

  get(name: string): FunctionRecord | undefined {
    return this.#functions.get(name);
  }

  require(name: string): FunctionRecord {
    const record = this.#functions.get(name);
    if (!record) throw new EnokiError('ERR_FUNCTION_NOT_FOUND', `no function named "${name}"`);
    return record;
  }

  list(): FunctionRecord[] {
    return [...this.#functions.values()].sort((a, b) => byCodeUnits(a.name, b.name));
  }

  get size(): number {
    return this.#functions.size;
  }

  /** Digests still referenced by some version. */
  liveDigests(): Set<string> {
    return new Set(this.list().flatMap((r) => r.versions.map((v) => v.digest)));
  }

  /** Adds a version and makes it active; persisted before it returns. */
  async addVersion(name: string, digest: string, size: number, options: FunctionOptions): Promise<FunctionVersion> {
    let version!: FunctionVersion;
    await this.#update(name, (current) => {
      const now = new Date().toISOString();
      const record = current ?? { name, createdAt: now, active: '', versions: [], nextVersion: 1 };
      version = { id: `v${record.nextVersion}`, digest, size, deployedAt: now, options };
      return this.#withVersion(record, version);
    });
    return version;
  }

  #withVersion(record: FunctionRecord, version: FunctionVersion): FunctionRecord {
    const versions = [...record.versions, version];
    return { ...record, active: version.id, nextVersion: record.nextVersion + 1, versions: versions.slice(Math.max(0, versions.length - this.history)) };
  }

  /**
   * addVersion, unless the active version has the same digest and options: then that version
   * stays, nothing is written, and `created` is false (a repeated deploy is not a new version).
   */
  async deployVersion(name: string, digest: string, size: number, options: FunctionOptions): Promise<{ version: FunctionVersion; created: boolean }> {
    let version!: FunctionVersion;
    let created = false;
    await this.#update(name, (current) => {
      const active = current?.versions.find((v) => v.id === current.active);
      if (current && active && active.digest === digest && sameOptions(active.options, options)) {
        version = active;
        return current;
      }
      const now = new Date().toISOString();
      const record = current ?? { name, createdAt: now, active: '', versions: [], nextVersion: 1 };
      version = { id: `v${record.nextVersion}`, digest, size, deployedAt: now, options };
      created = true;
      return this.#withVersion(record, version);
    });
    return { version, created };
  }

  /** Activates `versionId`, or the version deployed before the active one. */
  async activate(name: string, versionId?: string): Promise<FunctionVersion> {
    let target!: FunctionVersion;
    await this.#update(name, (current) => {
      const record = current ?? this.require(name);
      if (versionId) {
        const found = record.versions.find((v) => v.id === versionId);
        if (!found) throw new EnokiError('ERR_VERSION_NOT_FOUND', `function ${name} has no version ${versionId}`);
        target = found;
      } else {
        const index = record.versions.findIndex((v) => v.id === record.active);
        const previous = record.versions[index - 1];
        if (!previous) throw new EnokiError('ERR_NO_PREVIOUS_VERSION', `function ${name} has no version before ${record.active}`);
        target = previous;
      }
      return { ...record, active: target.id };
    });
    return target;
  }

  async remove(name: string): Promise<FunctionRecord> {
    let removed!: FunctionRecord;
    await this.#update(name, (current) => {
      removed = current ?? this.require(name);
      return undefined;
    });
    return removed;
  }

  /**
   * Serialised read-modify-write of one record: `change` sees the state left by every earlier
   * update, and the in-memory registry changes only once the new document is on disk.
   */
  #update(name: string, change: (current: FunctionRecord | undefined) => FunctionRecord | undefined): Promise<void> {
    const run = async () => {
      const current = this.#functions.get(name);
      const record = change(current);
      // Unchanged: nothing to write.
      if (record !== undefined && record === current) return;
      const next = new Map(this.#functions);
      if (record) next.set(name, record);
      else next.delete(name);
      await this.#persist([...next.values()]);
      if (record) this.#functions.set(name, record);
      else this.#functions.delete(name);
    };
    const result = this.#writing.then(run);
    this.#writing = result.catch(() => undefined);
    return result;
  }

  async #persist(functions: FunctionRecord[]): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ functions }, null, 1));
  }

}
