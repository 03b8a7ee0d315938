// Content-hash cache for guest builds: a stamp next to each output records what it was built from.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import { writeFileAtomic } from '../../replication/support/atomic-file.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Everything a build's output depends on. Two builds with equal inputs produce interchangeable
 * outputs, so the second can be skipped.
 */
export interface CacheInputs {
  /** What builds it, e.g. `componentize-js 0.23.0`: a tool upgrade invalidates every stamp. */
  tool: string;
  /** Source files by a stable name (relative path), with their contents. */
  sources: Map<string, string | Uint8Array>;
  /** Any other settings that change the output (world, features, ...). */
  settings: Record<string, unknown>;
}

/** The stamp file for an output: `counter.wasm` → `counter.wasm.stamp`. */
export function stampPath(out: string): string {
  return `${out}.stamp`;
}

/** sha256 over the inputs, with every part length-prefixed so no two input sets collide. */
export function cacheKey(inputs: CacheInputs): string {
  const hash = createHash('sha256');
  const part = (data: string | Uint8Array): void => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  };
  part(inputs.tool);
  part(canonicalJson(inputs.settings));
  for (const name of [...inputs.sources.keys()].sort()) {
    part(name);
    part(inputs.sources.get(name)!);
  }
  return hash.digest('hex');
}

/** JSON with object keys sorted at every level, so equal settings always hash alike. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

interface Stamp {
  key: string;
  /** sha256 of the output, so a replaced or truncated output is rebuilt rather than trusted. */
  output: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The cached output for `key`, or undefined when it is missing, stale or was changed since. */
export async function readCached(out: string, key: string): Promise<Uint8Array | undefined> {
  let stamp: Stamp;
  let bytes: Uint8Array;
  try {
    stamp = JSON.parse(await fs.readFile(stampPath(out), 'utf8')) as Stamp;
    if (stamp.key !== key) return undefined;
    const buffer = await fs.readFile(out);
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch {
    return undefined;
  }
  return sha256(bytes) === stamp.output ? bytes : undefined;
}

/**
 * Writes the output and then its stamp, each through a temporary file and a rename, so an
 * interrupted build never leaves a stamp that vouches for a partial output.
 */
export async function writeCached(out: string, key: string, bytes: Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.rm(stampPath(out), { force: true });
  await writeFileAtomic(out, bytes, { sync: false });
  const stamp: Stamp = { key, output: sha256(bytes) };
  await writeFileAtomic(stampPath(out), JSON.stringify(stamp) + '\n', { sync: false });
}

/** Writes a build output without a stamp (an uncached build), removing any stale stamp. */
export async function writeOutput(out: string, bytes: Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.rm(stampPath(out), { force: true });
  await writeFileAtomic(out, bytes, { sync: false });
}


/**
 * Every file under a WIT directory (a `.wit` file or a folder with `deps/`), by path relative to
 * it, prefixed with `wit/`. Synchronous because it is also used inside a synchronous hook.
 */
export function witSources(witPath: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(full, name);
      else if (entry.name.endsWith('.wit')) files.set(`wit/${name}`, readFileSync(full, 'utf8'));
    }
  };
  if (witPath.endsWith('.wit')) files.set(`wit/${path.basename(witPath)}`, readFileSync(witPath, 'utf8'));
  else walk(witPath, '');
  return files;
}

/**
 * A JS entry file and the relative modules it imports, transitively, by path relative to the
 * entry's folder. Import specifiers are found with a pattern rather than a parser: a specifier in
 * a comment only adds a file to the key, and bare specifiers (the WIT imports) are not files.
 */
export async function jsModuleSources(entry: string): Promise<Map<string, string>> {
  const root = path.dirname(entry);
  const files = new Map<string, string>();
  const pending = [path.resolve(entry)];
  const specifier = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;
  while (pending.length > 0) {
    const file = pending.pop()!;
    const name = path.relative(root, file);
    if (files.has(name)) continue;
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      // A missing import is the build's error to report; it still changes the key.
      files.set(name, '\0missing');
      continue;
    }
    files.set(name, text);
    for (const match of text.matchAll(specifier)) pending.push(path.resolve(path.dirname(file), match[2]));
  }
  return files;
}

/** `name version` of an installed package, read from its package.json next to its entry point. */
export async function packageVersion(name: string): Promise<string> {
  let dir = path.dirname(fileURLToPath(import.meta.resolve(name)));
  for (;;) {
    try {
      const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return `${name} ${pkg.version}`;
    } catch {
      // no package.json at this level: keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = parent;
  }
}
