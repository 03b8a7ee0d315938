// What the inline engine needs of a deployed component, worked out once and kept beside its
// artefact (`<artefact>/inline/`): the component's instantiation plan, whether this host can
// link it with its own bindings, and per core module its analysis (template key, i64
// constants) and data image. A restart reads these small files instead of re-reading and
// re-scanning 12 MB of engine per JS function.

import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../../replication/support/atomic-file.js';
import type { ArtifactMeta } from '../../functions/artifact-store.js';
import { parseComponent, type ComponentPlan } from '../wasm/component.js';
import { analyzeModule, coalesceImage, dataImage, type DataImage, type MemoryShape } from '../wasm/module.js';
import type { Linkable } from './linker.js';
import { handlerKind, unlinkable } from './linker.js';
import type { TemplateStore } from './templates.js';

// Bumped whenever the record changes, so that one made by an older node is made again: what the
// host can link (6: wasi:http types and wasi:keyvalue, 8: wasi:http's outgoing requests; an
// older record may give a reason to run on a worker that no longer holds) or how an image is
// stored (7: in coalesced segments).
const FORMAT = 8;

interface ModuleRecord {
  looseKey: string;
  dropData?: boolean;
  memory?: MemoryShape;
  unsupported?: string;
}

interface InlineRecord {
  format: number;
  plan: Omit<ComponentPlan, 'modules'>;
  modules: ModuleRecord[];
  /** Why the component cannot run inline; absent when it can. */
  reason?: string;
}

/** The image as one file: [u32 count] then per segment [u32 offset][u32 length][bytes]. */
function encodeImage(image: DataImage[]): Uint8Array {
  const size = 4 + image.reduce((n, s) => n + 8 + s.bytes.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, image.length, true);
  let pos = 4;
  for (const s of image) {
    view.setUint32(pos, s.offset, true);
    view.setUint32(pos + 4, s.bytes.length, true);
    out.set(s.bytes, pos + 8);
    pos += 8 + s.bytes.length;
  }
  return out;
}

function decodeImage(bytes: Uint8Array): DataImage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const image: DataImage[] = [];
  let pos = 4;
  for (let n = view.getUint32(0, true); n > 0; n--) {
    const offset = view.getUint32(pos, true);
    const length = view.getUint32(pos + 4, true);
    image.push({ offset, bytes: bytes.subarray(pos + 8, pos + 8 + length) });
    pos += 8 + length;
  }
  return image;
}

export class InlineCode {
  readonly #records = new Map<string, Promise<InlineRecord>>();

  constructor(
    private readonly artifactDir: (digest: string) => string,
    private readonly templates: TemplateStore,
  ) {}

  /** Why the component must run on a worker, or undefined when it can run inline. */
  async reason(meta: ArtifactMeta): Promise<string | undefined> {
    return (await this.#record(meta)).reason;
  }

  /**
   * What identifies the engine the component runs on: its core modules' loose keys (templates.ts),
   * which all JS functions of one componentize-js share.
   */
  async engineKey(meta: ArtifactMeta): Promise<string> {
    return (await this.#record(meta)).modules.map((m) => m.looseKey).join(',');
  }

  async load(meta: ArtifactMeta): Promise<Linkable> {
    const record = await this.#record(meta);
    if (record.reason) throw new Error(`the component cannot run inline: ${record.reason}`);
    const dir = this.#dir(meta);
    let modules: Promise<Uint8Array[]> | undefined;
    const moduleBytes = (i: number) => async () => {
      modules ??= this.#component(meta).then((bytes) => parseComponent(bytes).modules);
      return (await modules)[i];
    };
    const perRequest = handlerKind({ ...record.plan, modules: [] }) === 'http';
    const cores = await Promise.all(
      record.modules.map(async (m, i) => {
        const raw = readFileSync(path.join(dir, `${i}.consts`));
        const i64Consts = new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
        const template = await this.templates.template({ looseKey: m.looseKey, i64Consts, memory: m.memory, dropData: m.dropData }, moduleBytes(i));
        const imageFile = path.join(dir, `${i}.image`);
        let kept: DataImage[] | undefined;
        return {
          module: template.module,
          metered: true,
          memory: m.memory,
          // An instance of Enoki's world serves call after call: its image is read at each
          // instantiation rather than kept, as the first instance's memory holds it. A wasi:http
          // guest's instance serves one request, so every request instantiates: its image is kept
          // while the code is (read again and again, CPython's 15 MB took most of a request).
          image: perRequest ? () => (kept ??= decodeImage(readFileSync(imageFile))) : () => decodeImage(readFileSync(imageFile)),
          params: template.params,
        };
      }),
    );
    return { plan: { ...record.plan, modules: [] }, cores };
  }

  #dir(meta: ArtifactMeta): string {
    return path.join(this.artifactDir(meta.digest), 'inline');
  }

  #component(meta: ArtifactMeta): Promise<Uint8Array> {
    return fs.readFile(path.join(this.artifactDir(meta.digest), 'component.wasm'));
  }

  #record(meta: ArtifactMeta): Promise<InlineRecord> {
    let record = this.#records.get(meta.digest);
    if (!record) {
      record = this.#readOrAnalyze(meta);
      this.#records.set(meta.digest, record);
      record.catch(() => this.#records.delete(meta.digest));
    }
    return record;
  }

  async #readOrAnalyze(meta: ArtifactMeta): Promise<InlineRecord> {
    const dir = this.#dir(meta);
    try {
      // Read at a function's first call: small, and faster read at once than through the thread pool.
      const record = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8')) as InlineRecord;
      if (record.format === FORMAT) return record;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    const { modules, ...plan } = parseComponent(await this.#component(meta));
    const record: InlineRecord = { format: FORMAT, plan, modules: [], reason: unlinkable({ ...plan, modules }) };
    await fs.mkdir(dir, { recursive: true });
    if (!record.reason) {
      for (const [i, bytes] of modules.entries()) {
        const analysis = analyzeModule(bytes);
        if (analysis.unsupported) {
          record.reason = `core module ${i}: ${analysis.unsupported}`;
          break;
        }
        await writeFileAtomic(path.join(dir, `${i}.consts`), new Uint8Array(analysis.i64Consts.buffer), { sync: false });
        await writeFileAtomic(path.join(dir, `${i}.image`), encodeImage(coalesceImage(dataImage(bytes))), { sync: false });
        record.modules.push({ looseKey: analysis.looseKey, memory: analysis.memory, dropData: analysis.dropData });
      }
    }
    if (record.reason) record.modules = [];
    await writeFileAtomic(path.join(dir, 'plan.json'), JSON.stringify(record), { sync: false });
    return record;
  }
}
