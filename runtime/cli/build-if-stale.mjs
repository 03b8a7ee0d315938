// `npm start`'s prestart: compiles the TypeScript (`tsc --incremental`, what `npm run build`
// does) unless the last compilation it started is newer than every source and found the same
// list of them (a removed or added file is a change too). tsc's own no-op
// check loads the compiler and takes about half a second; a restart should not pay that. A
// compilation that fails leaves no stamp, so the next start compiles (and fails) again.
// With --always (`npm run build`) it compiles in any case. Either way it leaves the `enoki`
// command executable, which `npx enoki` needs and tsc does not do.
// Plain JavaScript: it runs before there is anything compiled.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const stamp = path.join(root, 'dist', '.compiled');
/** tsconfig.json's include, and the files that change what a compilation produces. */
const SOURCE_DIRS = ['runtime', 'replication', 'functions', 'bench', 'test'];
const CONFIG_FILES = ['tsconfig.json', 'package.json', 'package-lock.json'];

function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The .ts files under the source folders with their modification times. */
function sources() {
  const found = [];
  const pending = SOURCE_DIRS.map((dir) => path.join(root, dir));
  while (pending.length > 0) {
    const dir = pending.pop();
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.name.endsWith('.ts')) found.push({ file: path.relative(root, full), mtimeMs: mtimeMs(full) ?? Infinity });
    }
  }
  return found.sort((a, b) => (a.file < b.file ? -1 : 1));
}

/** What the stamp records: the list of sources, so that a removed or added file counts as a change. */
const listOf = (files) => files.map((f) => f.file).join('\n');

/**
 * The node's warm-up probe (runtime/warm-up/probe.wat → dist/runtime/warm-up/probe.wasm), when it
 * is missing or older than its source. Without it a node starts, only without warming up, so a
 * failure here is reported and not fatal.
 */
function buildProbe() {
  const source = path.join(root, 'runtime', 'warm-up', 'probe.wat');
  const output = path.join(root, 'dist', 'runtime', 'warm-up', 'probe.wasm');
  if ((mtimeMs(output) ?? -1) >= (mtimeMs(source) ?? Infinity)) return;
  const built = spawnSync(process.execPath, [path.join(root, 'dist', 'runtime', 'warm-up', 'build-probe.js')], { stdio: 'inherit' });
  if (built.status !== 0) process.stderr.write('the warm-up probe was not built: nodes start without warming up their invocation path\n');
}

/** The `enoki` command (package.json's bin): tsc writes it without the execute bit `npx enoki` needs. */
const cli = path.join(root, 'dist', 'runtime', 'cli', 'main.js');
const executable = () => {
  if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
};

const files = sources();
const last = mtimeMs(stamp);
// --always (npm run build): compile whatever the stamp says; tsc's own check still skips work.
if (last !== undefined && !process.argv.includes('--always')) {
  const unchanged =
    CONFIG_FILES.every((file) => (mtimeMs(path.join(root, file)) ?? 0) <= last) &&
    files.every((f) => f.mtimeMs <= last) &&
    fs.readFileSync(stamp, 'utf8') === listOf(files);
  if (unchanged) {
    executable();
    buildProbe();
    process.exit(0);
  }
}

const started = new Date();
// The compiler npm installed for this project (its package exports no path to its bin).
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json'), '--incremental'], { stdio: 'inherit' });
if (result.status !== 0) {
  fs.rmSync(stamp, { force: true });
  process.exit(result.status ?? 1);
}
// The time the compilation began: a source saved while it ran is newer, and is compiled next time.
fs.writeFileSync(stamp, listOf(files));
fs.utimesSync(stamp, started, started);
executable();
buildProbe();
