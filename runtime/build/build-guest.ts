// Builds one guest source file to a .wasm file, or reuses the existing output when its stamp matches.

import fs from 'node:fs/promises';
import path from 'node:path';
import { cacheKey, jsModuleSources, packageVersion, readCached, witSources, writeCached, writeOutput } from './build-cache.js';
import { buildJsGuest, type WasiFeature } from './componentize-js.js';
import { buildCoreModule, buildWatGuest } from './componentize-wat.js';
import { GuestBuildError } from './guest-build-error.js';

/** Bump when this library changes what it produces from the same inputs. */
const RECIPE = 2;

/** `js`: componentize-js; `wat`: WAT core module wrapped as a component; `core`: WAT left a core module. */
export type GuestKind = 'js' | 'wat' | 'core';

export interface GuestSpec {
  /** A `.js`/`.mjs` or `.wat` source file. */
  source: string;
  out: string;
  /** The WIT folder (or file); unused for `core`. */
  witDir: string;
  world?: string;
  /** JS guests only. */
  features?: readonly WasiFeature[];
  /** Defaults to what the file extension says. */
  kind?: GuestKind;
  /** Set to false to always rebuild (the output is then written without a stamp). */
  cache?: boolean;
  /** Called when the output is not current and the (possibly slow) build starts. */
  onBuild?: () => void;
}

export interface GuestBuildResult {
  out: string;
  kind: GuestKind;
  bytes: Uint8Array;
  /** True when the output was already current and nothing was built. */
  cached: boolean;
}

export function guestKind(source: string): GuestKind {
  const ext = path.extname(source);
  if (ext === '.js' || ext === '.mjs') return 'js';
  if (ext === '.wat') return 'wat';
  throw new GuestBuildError(source, `cannot tell how to build a \`${ext || 'extension-less'}\` file (expected .js, .mjs or .wat)`);
}

export async function buildGuest(spec: GuestSpec): Promise<GuestBuildResult> {
  const { source, out, witDir, world = 'function', features = [], cache = true } = spec;
  const kind = spec.kind ?? guestKind(source);
  if (kind !== 'js' && features.length > 0) {
    throw new GuestBuildError(source, 'WASI features apply to JS guests only');
  }
  const key = cache ? await keyFor(kind, spec, world) : undefined;
  if (key !== undefined) {
    const bytes = await readCached(out, key);
    if (bytes) return { out, kind, bytes, cached: true };
  }
  spec.onBuild?.();
  const bytes = await build(kind, spec, world);
  if (key !== undefined) await writeCached(out, key, bytes);
  else await writeOutput(out, bytes);
  return { out, kind, bytes, cached: false };
}

async function build(kind: GuestKind, spec: GuestSpec, world: string): Promise<Uint8Array> {
  if (kind === 'js') {
    return buildJsGuest({ source: spec.source, witDir: spec.witDir, world, features: spec.features });
  }
  const wat = await readText(spec.source);
  if (kind === 'core') return buildCoreModule({ wat, file: spec.source });
  return buildWatGuest({ wat, witDir: spec.witDir, world, file: spec.source });
}

async function keyFor(kind: GuestKind, spec: GuestSpec, world: string): Promise<string> {
  const sources =
    kind === 'js'
      ? await jsModuleSources(spec.source)
      : new Map<string, string>([[path.basename(spec.source), await readText(spec.source)]]);
  if (kind !== 'core') {
    try {
      for (const [name, text] of witSources(spec.witDir)) sources.set(name, text);
    } catch (err) {
      throw new GuestBuildError(spec.source, `cannot read the WIT at ${spec.witDir}: ${(err as Error).message}`, { cause: err });
    }
  }
  const tool = kind === 'js' ? '@bytecodealliance/componentize-js' : '@bytecodealliance/jco';
  return cacheKey({
    tool: `${await packageVersion(tool)} recipe ${RECIPE}`,
    sources,
    settings: { kind, world: kind === 'core' ? null : world, features: [...(spec.features ?? [])].sort() },
  });
}

async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GuestBuildError(file, code === 'ENOENT' ? 'no such file' : `cannot read the source (${code ?? err})`, { cause: err });
  }
}
