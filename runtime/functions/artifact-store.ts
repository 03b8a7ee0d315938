// Content-addressed storage of deployed components and their transpiled form under the data
// directory: components/<sha256>/{component.wasm, component.mjs, *.core*.wasm, meta.json}.
// Each entry is written to a temporary directory and renamed into place, so a crash never
// leaves a half-written artefact under its final name.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TranspiledComponent } from './transpiler.js';
import { ENOKI_WORLD, type WorldName } from './worlds.js';

export interface ArtifactMeta {
  digest: string;
  size: number;
  glueFile: string;
  coreFiles: string[];
  imports: string[];
  /** Absent for Enoki's own world (and in artefacts written before worlds existed). */
  world?: WorldName;
}

export function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ArtifactStore {
  /** Metadata by digest; entries never change once written, so caching is always valid. */
  readonly #meta = new Map<string, ArtifactMeta>();

  constructor(private readonly root: string) {}

  dir(digest: string): string {
    return path.join(this.root, digest);
  }

  /** The metadata if it has been read since the node started (no I/O): the invocation path's fast way. */
  cached(digest: string): ArtifactMeta | undefined {
    return this.#meta.get(digest);
  }

  async get(digest: string): Promise<ArtifactMeta | undefined> {
    const cached = this.#meta.get(digest);
    if (cached) return cached;
    try {
      // A few hundred bytes, read at a function's first call: at once rather than through the thread pool.
      const meta = JSON.parse(readFileSync(path.join(this.dir(digest), 'meta.json'), 'utf8')) as ArtifactMeta;
      this.#meta.set(digest, meta);
      return meta;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put(bytes: Uint8Array, transpiled: TranspiledComponent): Promise<ArtifactMeta> {
    const digest = digestOf(bytes);
    const existing = await this.get(digest);
    if (existing) return existing;
    const meta: ArtifactMeta = {
      digest,
      size: bytes.length,
      glueFile: transpiled.glueFile,
      coreFiles: transpiled.coreFiles,
      imports: transpiled.imports,
      ...(transpiled.world !== ENOKI_WORLD && { world: transpiled.world }),
    };
    await fs.mkdir(this.root, { recursive: true });
    const tmp = path.join(this.root, `.tmp-${digest.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    await fs.mkdir(tmp);
    await fs.writeFile(path.join(tmp, 'component.wasm'), bytes);
    for (const [name, contents] of transpiled.files) await fs.writeFile(path.join(tmp, name), contents);
    await fs.writeFile(path.join(tmp, 'meta.json'), JSON.stringify(meta));
    try {
      await fs.rename(tmp, this.dir(digest));
    } catch (err) {
      // A concurrent deploy of the same bytes won the rename; its copy is identical.
      await fs.rm(tmp, { recursive: true, force: true });
      if (!(await this.get(digest))) throw err;
    }
    return meta;
  }

  glueUrl(meta: ArtifactMeta): string {
    return pathToFileURL(path.join(this.dir(meta.digest), meta.glueFile)).href;
  }

  async readCore(meta: ArtifactMeta, file: string): Promise<Uint8Array> {
    return fs.readFile(path.join(this.dir(meta.digest), file));
  }

  /** Removes artefacts no function version refers to. */
  async collect(live: Set<string>): Promise<number> {
    let removed = 0;
    for (const entry of await fs.readdir(this.root).catch(() => [] as string[])) {
      if (live.has(entry)) continue;
      this.#meta.delete(entry);
      await fs.rm(path.join(this.root, entry), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}
