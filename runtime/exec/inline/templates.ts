// Compiled code shared between functions. A core module is turned into a template (its memory
// imported, its data lifted out into an image, metering injected: wasm/module.ts) once per
// engine, not once per function: all JS functions built by componentize-js carry the same
// 12 MB StarlingMonkey engine and differ only in their data and in a few i64 constants, so they
// share one template whose differing constants are per-instance parameters.
//
// A family is the set of modules with one loose key (everything but data and i64 constants).
// Its first module's constants are the reference; each later module's constants are compared
// with it and the sites that differ become parameters of the family's template. Templates and
// families live on disk under `<dir>/<FORMAT>`, so a restart compiles, but never rewrites, an
// engine; what an earlier format left beside it (12 MB for each JS engine) is removed when the
// store starts. A module's own analysis (key, constants, data image) is kept with its artefact
// by the caller.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../../replication/support/atomic-file.js';
import { type ModuleAnalysis } from '../wasm/module.js';
import { prepareModule } from '../wasm/template.js';

/** More differing sites than this and a module gets a template of its own. */
const MAX_PARAMS = 64;
const FORMAT = 'v6';
/** Templates up to this size are read and compiled synchronously (see #build). */
const SYNC_COMPILE_BYTES = 256 * 1024;

interface Family {
  paramSites: number[];
  reference: BigInt64Array;
}

export interface Template {
  module: WebAssembly.Module;
  /** The module's values at the template's parameter sites. */
  params: bigint[];
}

/**
 * The indices where two arrays of constants differ, in ascending order, `limit` at most. A JS
 * guest has ~50,000 i64 constants, of which a few differ between functions: halves that are
 * byte for byte equal are skipped in native code, where reading every element of a BigInt64Array
 * would allocate a BigInt for each (5-8 ms at a function's first call).
 */
export function differingSites(a: BigInt64Array, b: BigInt64Array, limit = Infinity): number[] {
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  const walk = (lo: number, hi: number): void => {
    if (out.length >= limit || x.compare(y, lo * 8, hi * 8, lo * 8, hi * 8) === 0) return;
    if (hi - lo === 1) {
      out.push(lo);
      return;
    }
    const mid = (lo + hi) >>> 1;
    walk(lo, mid);
    walk(mid, hi);
  };
  if (n > 0) walk(0, n);
  // Constants one array has and the other lacks differ too.
  for (let i = n; i < Math.max(a.length, b.length) && out.length < limit; i++) out.push(i);
  return out;
}

export class TemplateStore {
  readonly #families = new Map<string, Promise<Family>>();
  /** Compiled templates by id, and the ids of each family's current and outdated templates. */
  readonly #compiled = new Map<string, Promise<WebAssembly.Module>>();
  readonly #familyTemplates = new Map<string, Set<string>>();
  #version = 0;
  /** Serialises the changes of each family (two deploys of one engine at once); families go on in parallel. */
  readonly #queues = new Map<string, Promise<unknown>>();

  /** Where this format's templates and families live. */
  readonly dir: string;

  constructor(
    root: string,
    private readonly meter: boolean,
    private readonly logger: Logger,
  ) {
    this.dir = path.join(root, FORMAT);
    void this.#pruneOtherFormats(root);
  }

  /** Removes what other formats left under `root`: this format never reads it. */
  async #pruneOtherFormats(root: string): Promise<void> {
    let entries: string[];
    try {
      entries = await fs.readdir(root);
    } catch {
      return; // no templates yet
    }
    for (const entry of entries.filter((e) => e !== FORMAT)) {
      await fs.rm(path.join(root, entry), { recursive: true, force: true }).catch((err: unknown) => this.logger.warn({ err, entry }, 'could not remove an outdated guest code template'));
    }
  }

  /**
   * Goes up whenever a family gains parameters: code loaded before holds a template of that family
   * that is no longer the current one, and is worth loading again (inline-engine.ts) so that the
   * outdated compiled template can go.
   */
  version(): number {
    return this.#version;
  }

  /** The template for a module (its bytes are needed only if the template must be built). */
  template(analysis: ModuleAnalysis, bytes: () => Promise<Uint8Array>): Promise<Template> {
    const key = analysis.looseKey;
    const run = (this.#queues.get(key) ?? Promise.resolve()).then(() => this.#template(analysis, bytes));
    const settled = run.catch(() => undefined);
    this.#queues.set(key, settled);
    void settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return run;
  }

  async #template(analysis: ModuleAnalysis, bytes: () => Promise<Uint8Array>): Promise<Template> {
    const { looseKey, i64Consts } = analysis;
    let family = await this.#family(looseKey, i64Consts);
    let sites = family.paramSites;
    const differing = differingSites(i64Consts, family.reference, MAX_PARAMS + 1);
    if (differing.length > MAX_PARAMS) {
      // Not really of this family: an exact template keyed by its own constants.
      const exact = createHash('sha256').update(looseKey).update(new Uint8Array(i64Consts.buffer)).digest('hex');
      family = await this.#family(exact, i64Consts);
      sites = [];
      return { module: await this.#compile(exact, sites, analysis, bytes), params: [] };
    }
    if (differing.some((site) => !sites.includes(site))) {
      sites = [...new Set([...sites, ...differing])].sort((a, b) => a - b);
      family.paramSites = sites;
      await this.#saveFamily(looseKey, family);
      // The family's earlier templates serve only the instances made from them: forget them here.
      for (const id of this.#familyTemplates.get(looseKey) ?? []) this.#compiled.delete(id);
      this.#familyTemplates.delete(looseKey);
      this.#version++;
      this.logger.debug({ family: looseKey.slice(0, 12), params: sites.length }, 'template family gained parameters');
    }
    return { module: await this.#compile(looseKey, sites, analysis, bytes), params: sites.map((site) => i64Consts[site]) };
  }

  async #family(key: string, consts: BigInt64Array): Promise<Family> {
    let family = this.#families.get(key);
    if (!family) {
      family = this.#loadFamily(key, consts);
      this.#families.set(key, family);
      family.catch(() => this.#families.delete(key));
    }
    return family;
  }

  async #loadFamily(key: string, consts: BigInt64Array): Promise<Family> {
    const base = path.join(this.dir, key);
    try {
      // Small files, read at the first call of a function: a synchronous read costs microseconds
      // where a trip through the I/O thread pool can cost milliseconds on a busy node.
      const { paramSites } = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { paramSites: number[] };
      const raw = readFileSync(`${base}.consts`);
      const reference = new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      if (reference.length === consts.length) return { paramSites, reference };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ err, family: key.slice(0, 12) }, 'unreadable template family: starting it anew');
    }
    const family = { paramSites: [], reference: consts };
    await this.#saveFamily(key, family);
    return family;
  }

  async #saveFamily(key: string, family: Family): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    const base = path.join(this.dir, key);
    await writeFileAtomic(`${base}.consts`, new Uint8Array(family.reference.buffer, family.reference.byteOffset, family.reference.byteLength), { sync: false });
    await writeFileAtomic(`${base}.json`, JSON.stringify({ paramSites: family.paramSites }), { sync: false });
  }

  #compile(key: string, sites: number[], analysis: ModuleAnalysis, bytes: () => Promise<Uint8Array>): Promise<WebAssembly.Module> {
    const dropData = analysis.dropData === true;
    const id = createHash('sha256').update(`${FORMAT}:${key}:${this.meter}:${dropData}:${sites.join(',')}`).digest('hex');
    const ids = this.#familyTemplates.get(key) ?? new Set<string>();
    ids.add(id);
    this.#familyTemplates.set(key, ids);
    let compiled = this.#compiled.get(id);
    if (!compiled) {
      compiled = this.#build(id, sites, dropData, bytes);
      this.#compiled.set(id, compiled);
      compiled.catch(() => this.#compiled.delete(id));
    }
    return compiled;
  }

  async #build(id: string, sites: number[], dropData: boolean, bytes: () => Promise<Uint8Array>): Promise<WebAssembly.Module> {
    const file = path.join(this.dir, `${id}.wasm`);
    let template: Uint8Array;
    try {
      // A small template (a tiny guest's) is read and compiled at once: each trip through the
      // thread pool or to V8's compile threads would cost more than the work. A large one (a JS
      // guest's 12 MB engine) goes the asynchronous way, so other calls run meanwhile.
      const size = statSync(file).size;
      if (size <= SYNC_COMPILE_BYTES) return new WebAssembly.Module(readFileSync(file));
      template = await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const started = performance.now();
      template = prepareModule(await bytes(), { meter: this.meter, paramSites: sites, dropData });
      await fs.mkdir(this.dir, { recursive: true });
      await writeFileAtomic(file, template, { sync: false });
      this.logger.info({ template: id.slice(0, 12), ms: Math.round(performance.now() - started), bytes: template.length }, 'built a guest code template');
    }
    return WebAssembly.compile(template as Uint8Array<ArrayBuffer>);
  }
}
