// TypeScript guests: the entry and the modules it imports are bundled into one JavaScript module
// (types stripped, nothing type-checked: that is the editor's and `tsc --noEmit`'s job, with
// the declarations of guest-types.ts), which componentize-js then builds like any JS guest.
//
// rolldown does the stripping and bundling: the `typescript` package here is the native
// compiler, which has no API, and Node 20 cannot strip types itself.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildJsGuest, type WasiFeature } from './componentize-js.js';
import { GuestBuildError } from './guest-build-error.js';

export interface TsBundle {
  /** One ES module: the guest with its relative imports inlined, WIT imports left as imports. */
  code: string;
  /** The source files it was made of, relative to the entry's folder. */
  modules: string[];
}

/** WIT imports (`enoki:faas/kv@0.1.0`, `wasi:http/types@0.2.3`) are the component's, not files. */
const WIT_IMPORT = /^[a-z][a-z0-9-]*:[a-z]/;

export async function bundleTypeScript(source: string): Promise<TsBundle> {
  try {
    await fs.access(source);
  } catch {
    throw new GuestBuildError(source, 'no such file');
  }
  const { rolldown } = await import('rolldown');
  const root = path.dirname(path.resolve(source));
  const problems: string[] = [];
  let bundle: Awaited<ReturnType<typeof rolldown>> | undefined;
  try {
    bundle = await rolldown({
      input: path.resolve(source),
      external: (id) => WIT_IMPORT.test(id),
      platform: 'neutral',
      // The guest runs in SpiderMonkey with no Node built-ins and no package resolution at run
      // time: everything it imports must be inlined here.
      resolve: { conditionNames: ['import', 'default'] },
      logLevel: 'warn',
      onLog: (level, log) => {
        if (level === 'warn') problems.push(log.message);
      },
    });
    const { output } = await bundle.generate({ format: 'esm', codeSplitting: false });
    const chunk = output.find((o) => o.type === 'chunk');
    if (!chunk || chunk.type !== 'chunk') throw new Error('rolldown produced no module');
    const unresolved = problems.filter((p) => /could not be resolved|UNRESOLVED_IMPORT/i.test(p));
    if (unresolved.length > 0) throw new Error(unresolved.join('\n'));
    return { code: chunk.code, modules: chunk.moduleIds.map((id) => path.relative(root, id)).sort() };
  } catch (err) {
    const message = String((err as Error)?.message ?? err).replaceAll(root + path.sep, '');
    throw new GuestBuildError(source, `TypeScript error\n${message.trim()}`, { cause: err });
  } finally {
    await bundle?.close();
  }
}

export interface TsGuestOptions {
  source: string;
  witDir: string;
  world?: string;
  features?: readonly WasiFeature[];
  /** A bundle made before (e.g. for the cache key); made here when absent. */
  bundle?: TsBundle;
}

/** Bundles the TypeScript guest and builds the bundle with componentize-js. */
export async function buildTsGuest(options: TsGuestOptions): Promise<Uint8Array> {
  const bundle = options.bundle ?? (await bundleTypeScript(options.source));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-ts-'));
  const js = path.join(dir, `${path.basename(options.source).replace(/\.[cm]?ts$/, '')}.js`);
  try {
    await fs.writeFile(js, bundle.code);
    return await buildJsGuest({ source: js, witDir: options.witDir, world: options.world, features: options.features });
  } catch (err) {
    // Name the user's file, not the bundle's temporary path.
    if (err instanceof GuestBuildError) {
      throw new GuestBuildError(options.source, err.message.slice(err.file.length + 2).replaceAll(js, options.source), { cause: err });
    }
    throw err;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
