// Reuses componentize-js's engine splice between JS guest builds in one process.
//
// componentize() first splices the WIT world's bindings into the 10 MB StarlingMonkey engine
// (~10 s of single-threaded work); that step depends only on the engine, the WIT, the world and
// the WASI features, never on the guest's source. Memoising it makes the second and later builds
// against the same world ~3x faster. It hooks a module of componentize-js that is not part of its
// public API: when that module is missing or has changed shape, builds run unmemoised.

import { createHash } from 'node:crypto';
import { cacheKey, witSources } from './build-cache.js';

type Splice = (...args: unknown[]) => unknown;

/** Spliced engines are ~10 MB each; a build rarely uses more than one or two worlds. */
const MAX_ENTRIES = 3;

let installing: Promise<boolean> | undefined;

/** Installs the memo once per process; resolves to whether it could be installed. */
export function installSpliceMemo(): Promise<boolean> {
  installing ??= install();
  return installing;
}

async function install(): Promise<boolean> {
  try {
    const url = new URL('../lib/spidermonkey-embedding-splicer.js', import.meta.resolve('@bytecodealliance/componentize-js'));
    const { splicer } = (await import(url.href)) as { splicer?: Record<string, unknown> };
    if (!splicer || typeof splicer.spliceBindings !== 'function') return false;
    const original = splicer.spliceBindings as Splice;
    const memo = new Map<string, unknown>();
    splicer.spliceBindings = (...args: unknown[]): unknown => {
      const key = spliceKey(args);
      if (key === undefined) return original(...args);
      let spliced = memo.get(key);
      if (spliced === undefined) {
        spliced = original(...args);
      } else {
        memo.delete(key); // re-inserted below as the most recently used
      }
      memo.set(key, spliced);
      if (memo.size > MAX_ENTRIES) memo.delete(memo.keys().next().value!);
      return spliced;
    };
    return true;
  } catch {
    return false;
  }
}

/**
 * The arguments are (engine bytes, features, inline WIT, WIT path, world name, ...flags). The
 * WIT path's files are read now, so an edited WIT is never served a stale splice.
 */
function spliceKey(args: unknown[]): string | undefined {
  const [engine, features, witWorld, witPath, ...rest] = args;
  if (!(engine instanceof Uint8Array) || !Array.isArray(features)) return undefined;
  if (witPath !== undefined && typeof witPath !== 'string') return undefined;
  let sources: Map<string, string>;
  try {
    sources = witPath ? witSources(witPath) : new Map();
  } catch {
    return undefined;
  }
  return cacheKey({
    tool: createHash('sha256').update(engine).digest('hex'),
    sources,
    settings: { features: [...features].sort(), witWorld: witWorld ?? null, rest },
  });
}
