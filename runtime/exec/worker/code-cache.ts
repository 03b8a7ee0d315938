// Compiled core modules per (component, memory limit), shared by every worker: compiling a 12 MB
// JS component takes ~80 ms and happens once per node process, on the first call.

import { ArtifactStore, type ArtifactMeta } from '../../functions/artifact-store.js';
import type { FunctionVersion } from '../../functions/registry.js';
import { limitMemory, WASM_PAGE } from './memory-limit.js';
import type { LoadSpec } from '../protocol.js';

export function codeKeyOf(digest: string, memoryLimitBytes: number): string {
  return `${digest}:${memoryLimitBytes / WASM_PAGE}`;
}

/**
 * Whose warm instances a call may run on: one function version's. Functions deployed from the
 * same component share its compiled code (codeKeyOf) but never an instance, whose memory keeps
 * what the guest kept from its earlier calls: its globals, what it read of its environment.
 * The deploy time tells a version apart from one of the same id before the function was removed.
 */
export function instanceKeyOf(fn: string, version: Pick<FunctionVersion, 'id' | 'deployedAt' | 'digest'>, memoryLimitBytes: number): string {
  return `${codeKeyOf(version.digest, memoryLimitBytes)}:${fn}:${version.id}:${version.deployedAt}`;
}

export class CodeCache {
  readonly #compiled = new Map<string, Promise<LoadSpec>>();

  constructor(private readonly artifacts: ArtifactStore) {}

  load(meta: ArtifactMeta, memoryLimitBytes: number): Promise<LoadSpec> {
    const codeKey = codeKeyOf(meta.digest, memoryLimitBytes);
    let spec = this.#compiled.get(codeKey);
    if (!spec) {
      spec = this.#compile(meta, codeKey, memoryLimitBytes);
      this.#compiled.set(codeKey, spec);
      // A failed compile is not cached: the next call tries again.
      spec.catch(() => this.#compiled.delete(codeKey));
    }
    return spec;
  }

  drop(codeKey: string): void {
    this.#compiled.delete(codeKey);
  }

  async #compile(meta: ArtifactMeta, codeKey: string, memoryLimitBytes: number): Promise<LoadSpec> {
    const pages = Math.max(1, Math.floor(memoryLimitBytes / WASM_PAGE));
    const modules: Record<string, WebAssembly.Module> = {};
    await Promise.all(
      meta.coreFiles.map(async (file) => {
        const bytes = await this.artifacts.readCore(meta, file);
        modules[file] = await WebAssembly.compile(limitMemory(bytes, pages) as Uint8Array<ArrayBuffer>);
      }),
    );
    return { codeKey, glueUrl: this.artifacts.glueUrl(meta), modules };
  }
}
