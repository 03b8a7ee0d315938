// Builds one guest source file to a .wasm file, or reuses the existing output when its stamp matches.

import fs from 'node:fs/promises';
import path from 'node:path';
import { cacheKey, jsModuleSources, packageVersion, readCached, witSources, writeCached, writeOutput } from './build-cache.js';
import { buildJsGuest, type WasiFeature } from './componentize-js.js';
import { buildPythonGuest, pythonSources } from './componentize-py.js';
import { buildCoreModule, buildWatGuest } from './componentize-wat.js';
import { GuestBuildError } from './guest-build-error.js';
import { PYTHON_TOOL_PINS } from './python-tools.js';
import { buildTsGuest, bundleTypeScript, type TsBundle } from './typescript.js';
import type { ToolConfig } from '../config.js';

/** Bump when this library changes what it produces from the same inputs. */
const RECIPE = 2;

/**
 * `js`: componentize-js; `ts`: TypeScript bundled, then componentize-js; `python`: componentize-py;
 * `wat`: WAT core module wrapped as a component; `core`: WAT left a core module.
 */
export type GuestKind = 'js' | 'ts' | 'python' | 'wat' | 'core';

export interface GuestSpec {
  /** A `.js`/`.mjs`, `.ts`/`.mts`, `.py` or `.wat` source file. */
  source: string;
  out: string;
  /** The WIT folder (or file); unused for `core`. */
  witDir: string;
  world?: string;
  /** JS and TypeScript guests only. */
  features?: readonly WasiFeature[];
  /** Python guests: where the toolchain is installed (defaults from the environment). */
  tools?: ToolConfig;
  /** Python guests: hears once that the toolchain is being installed. */
  onInstall?: (message: string) => void;
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
  if (ext === '.ts' || ext === '.mts') return 'ts';
  if (ext === '.py') return 'python';
  if (ext === '.wat') return 'wat';
  throw new GuestBuildError(source, `cannot tell how to build a \`${ext || 'extension-less'}\` file (expected .js, .mjs, .ts, .mts, .py or .wat)`);
}

export async function buildGuest(spec: GuestSpec): Promise<GuestBuildResult> {
  const { source, out, witDir, world = 'function', features = [], cache = true } = spec;
  const kind = spec.kind ?? guestKind(source);
  if (kind !== 'js' && kind !== 'ts' && features.length > 0) {
    throw new GuestBuildError(source, 'WASI features apply to JS guests only (JavaScript or TypeScript)');
  }
  // Bundled once: the bundle is both what the cache key hashes and what is built.
  const bundle = kind === 'ts' ? await bundleTypeScript(source) : undefined;
  const key = cache ? await keyFor(kind, spec, world, bundle) : undefined;
  if (key !== undefined) {
    const bytes = await readCached(out, key);
    if (bytes) return { out, kind, bytes, cached: true };
  }
  spec.onBuild?.();
  const bytes = await build(kind, spec, world, bundle);
  if (key !== undefined) await writeCached(out, key, bytes);
  else await writeOutput(out, bytes);
  return { out, kind, bytes, cached: false };
}

async function build(kind: GuestKind, spec: GuestSpec, world: string, bundle?: TsBundle): Promise<Uint8Array> {
  if (kind === 'js') {
    return buildJsGuest({ source: spec.source, witDir: spec.witDir, world, features: spec.features });
  }
  if (kind === 'ts') {
    return buildTsGuest({ source: spec.source, witDir: spec.witDir, world, features: spec.features, bundle });
  }
  if (kind === 'python') {
    return buildPythonGuest({ source: spec.source, witDir: spec.witDir, world, tools: spec.tools, onInstall: spec.onInstall });
  }
  const wat = await readText(spec.source);
  if (kind === 'core') return buildCoreModule({ wat, file: spec.source });
  return buildWatGuest({ wat, witDir: spec.witDir, world, file: spec.source });
}

async function keyFor(kind: GuestKind, spec: GuestSpec, world: string, bundle?: TsBundle): Promise<string> {
  const sources =
    kind === 'js'
      ? await jsModuleSources(spec.source)
      : kind === 'ts'
        ? new Map<string, string>([['bundle.js', bundle!.code]])
        : kind === 'python'
          ? await pythonSources(spec.source)
          : new Map<string, string>([[path.basename(spec.source), await readText(spec.source)]]);
  if (kind !== 'core') {
    try {
      for (const [name, text] of witSources(spec.witDir)) sources.set(name, text);
    } catch (err) {
      throw new GuestBuildError(spec.source, `cannot read the WIT at ${spec.witDir}: ${(err as Error).message}`, { cause: err });
    }
  }
  return cacheKey({
    tool: `${await toolLabel(kind)} recipe ${RECIPE}`,
    sources,
    settings: { kind, world: kind === 'core' ? null : world, features: [...(spec.features ?? [])].sort() },
  });
}

async function toolLabel(kind: GuestKind): Promise<string> {
  if (kind === 'python') {
    // The pins, not what is installed: a cached output stays current before the toolchain is.
    return Object.entries(PYTHON_TOOL_PINS).map(([name, version]) => `${name} ${version}`).join(', ');
  }
  if (kind === 'js' || kind === 'ts') return packageVersion('@bytecodealliance/componentize-js');
  return packageVersion('@bytecodealliance/jco');
}

async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GuestBuildError(file, code === 'ENOENT' ? 'no such file' : `cannot read the source (${code ?? err})`, { cause: err });
  }
}
