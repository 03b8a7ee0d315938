// Builds the example functions to functions/build/<name>.wasm and, with --fixtures, the test
// guests to functions/build/fixtures/<name>.wasm, skipping those whose sources have not changed.
// `npm start` builds the examples only: a fresh machine builds no test guests before it serves.
//
//   node dist/functions/build.js [--fixtures] [--report]
//
// With --report, progress goes to stderr and stdout carries one JSON line per guest as soon as
// it is ready (built, or cached): {"ready":name,"out":path}, or {"failed":name,"error":text}.
// `enoki start --examples` runs it so and deploys each example as it comes: the examples the
// README uses first are built first. With --worlds it builds only the standard-world guests
// (wasi:http, wasi:keyvalue) that tests and benchmarks use, to functions/build/worlds/ (see
// world-guests.ts): a node does not need them.
// Python examples are built only where their toolchain is already installed (`npm run
// setup:python`) and this Node can run them, so that a fresh machine never waits for PyPI.

import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadToolConfig } from '../runtime/config.js';
import { buildGuest, guestKind, type GuestSpec } from '../runtime/build/build-guest.js';
import type { WasiFeature } from '../runtime/build/componentize-js.js';
import { EXTENDED_CONST_FLAG, supportsPythonGuests } from '../runtime/build/engine-support.js';
import { findPythonTools } from '../runtime/build/python-tools.js';
import { buildWorldGuest, prepareWorldWit, worldGuests } from './world-guests.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // from dist/functions/
const WIT_DIR = path.join(ROOT, 'wit');
const EXAMPLES_DIR = path.join(ROOT, 'functions');
const FIXTURES_DIR = path.join(ROOT, 'test', 'fixtures', 'guests');
const OUT_DIR = path.join(EXAMPLES_DIR, 'build');
const FIXTURES_OUT_DIR = path.join(OUT_DIR, 'fixtures');
const WORLD_FIXTURES_DIR = path.join(ROOT, 'test', 'fixtures', 'worlds');
const WORLDS_OUT_DIR = path.join(OUT_DIR, 'worlds');

/** Test guests that are not ordinary `function`-world guests, by file name. */
const FIXTURE_OVERRIDES: Record<string, Partial<GuestSpec>> = {
  'core-module.wat': { kind: 'core' },
  'wrong-world.wat': { witDir: path.join(FIXTURES_DIR, 'wrong-world'), world: 'thing' },
  'stdio.js': { features: ['stdio', 'random', 'clocks'] },
  'fetcher.js': { features: ['http'] },
};

/**
 * WASI features an example needs (JS guests are built with none unless asked, see
 * functions/README.md): `random` for real random numbers, `clocks` for the time.
 */
const EXAMPLE_FEATURES: Record<string, WasiFeature[]> = {
  write: ['random'],
  // The BeFaaS functions that call others give each call a fresh uuid4 (its `xpair`);
  // objectrecognition also draws the objects it "recognises".
  emergencydetection: ['random'],
  movementplan: ['random'],
  objectrecognition: ['random'],
  roadcondition: ['random'],
  trafficsensorfilter: ['random'],
  weathersensorfilter: ['random'],
  // lightphasecalculation waits seconds between light changes; trafficstatistics keys its
  // counts by the current second.
  lightphasecalculation: ['clocks'],
  trafficstatistics: ['clocks'],
};

interface Guest {
  name: string;
  spec: GuestSpec;
}

const SOURCE = /\.(js|mjs|ts|wat)$/;

/**
 * The source named after `dir` (`<dir>/<basename>.{js,mjs,ts,wat}`), or a Python guest's
 * `<dir>/app.py` (a Python module's name cannot hold the '-' a function name may), if any.
 */
async function ownSource(dir: string): Promise<string | undefined> {
  const name = path.basename(dir);
  const files = await fs.readdir(dir);
  const source = files.find((f) => SOURCE.test(f) && f.replace(SOURCE, '') === name) ?? files.find((f) => f === 'app.py');
  return source && path.join(dir, source);
}

/**
 * functions/<name>/<name>.{js,wat}, and one level down for an application of several functions
 * that share modules (functions/<app>/<name>/<name>.js, e.g. befaas-iot). Built to
 * functions/build/<name>.wasm: names must be unique across applications.
 */
async function examples(): Promise<Guest[]> {
  const guests: Guest[] = [];
  const add = (name: string, source: string) => {
    if (guests.some((g) => g.name === name)) throw new Error(`two examples are named ${name}`);
    const features = EXAMPLE_FEATURES[name];
    guests.push({
      name,
      spec: { source, out: path.join(OUT_DIR, `${name}.wasm`), witDir: WIT_DIR, ...(features ? { features } : {}) },
    });
  };
  for (const entry of await fs.readdir(EXAMPLES_DIR, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'build') continue;
    const dir = path.join(EXAMPLES_DIR, entry.name);
    const source = await ownSource(dir);
    if (source) {
      add(entry.name, source);
      continue;
    }
    for (const sub of await fs.readdir(dir, { withFileTypes: true })) {
      if (!sub.isDirectory()) continue;
      const nested = await ownSource(path.join(dir, sub.name));
      if (nested) add(sub.name, nested);
    }
  }
  return guests;
}

/**
 * Python examples are left out (with the reason) where the toolchain is not installed yet or
 * this Node cannot load componentize-py's output: its deploy would fail `npm start`.
 */
async function withoutUnbuildablePython(guests: Guest[]): Promise<Guest[]> {
  const python = guests.filter((g) => guestKind(g.spec.source) === 'python');
  if (python.length === 0) return guests;
  let reason: string | undefined;
  if (!supportsPythonGuests()) {
    reason = `Node ${process.versions.node} cannot load Python guests without ${EXTENDED_CONST_FLAG} (Node 22 and later can)`;
  } else if (!(await findPythonTools(loadToolConfig()))) {
    reason = 'the Python toolchain is not installed (`npm run setup:python` installs it)';
  }
  if (!reason) return guests;
  for (const g of python) (process.argv.includes('--report') ? process.stderr : process.stdout).write(`${g.name}: skipped: ${reason}\n`);
  return guests.filter((g) => !python.includes(g));
}

/** test/fixtures/guests/<name>.{js,wat} */
async function fixtures(): Promise<Guest[]> {
  const files = (await fs.readdir(FIXTURES_DIR)).filter((f) => SOURCE.test(f));
  return files.map((file) => {
    const name = file.replace(SOURCE, '');
    const spec: GuestSpec = { source: path.join(FIXTURES_DIR, file), out: path.join(FIXTURES_OUT_DIR, `${name}.wasm`), witDir: WIT_DIR };
    return { name: `fixtures/${name}`, spec: { ...spec, ...FIXTURE_OVERRIDES[file] } };
  });
}

/** Removes outputs (and stamps) in `dir` whose source is gone, so nobody deploys a stale guest. */
async function removeStale(dir: string, keep: Set<string>): Promise<void> {
  let files: string[];
  try {
    files = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const file of files) {
    const out = path.join(dir, file.replace(/\.stamp$/, ''));
    if (/\.wasm(\.stamp)?$/.test(file) && !keep.has(out)) await fs.rm(path.join(dir, file), { force: true });
  }
}

function estimate(spec: GuestSpec, jsBuilt: number): string {
  const kind = spec.kind ?? guestKind(spec.source);
  if (kind === 'python') return 'Python, ~30 s';
  if (kind !== 'js' && kind !== 'ts') return 'WAT';
  // Later JS builds reuse the first one's engine splice (see runtime/build/splice-memo.ts).
  return jsBuilt === 0 ? 'JS, ~10 s' : 'JS, ~4 s';
}

/** Built first: what the README's first commands call. */
const FIRST = ['counter', 'hello', 'echo', 'movingaverage'];
const rank = (name: string) => (FIRST.includes(name) ? FIRST.indexOf(name) : FIRST.length);

async function main(): Promise<void> {
  const withFixtures = process.argv.includes('--fixtures');
  const report = process.argv.includes('--report');
  const progress = report ? process.stderr : process.stdout;
  const ordered = (await examples()).sort((a, b) => rank(a.name) - rank(b.name));
  const guests = await withoutUnbuildablePython([...ordered, ...(withFixtures ? await fixtures() : [])]);
  const outputs = new Set(guests.map((g) => g.spec.out));
  await removeStale(OUT_DIR, outputs);
  if (withFixtures) await removeStale(FIXTURES_OUT_DIR, outputs);

  const failures: string[] = [];
  let jsBuilt = 0;
  // One after another: a JS build keeps a core busy for seconds and holds ~100 MB; the machines
  // this targets have two cores, and other work (tests, a node) shares them.
  for (const { name, spec } of guests) {
    const label = `building ${name} (${estimate(spec, jsBuilt)})…`;
    const started = performance.now();
    let announced = false;
    try {
      const result = await buildGuest({
        ...spec,
        onBuild: () => {
          announced = true;
          progress.write(label);
        },
      });
      const size = `${(result.bytes.length / 1024).toFixed(result.bytes.length < 10240 ? 1 : 0)} KiB`;
      if (result.cached) {
        progress.write(`${name}: cached (${size})\n`);
      } else {
        if (result.kind === 'js' || result.kind === 'ts') jsBuilt++;
        progress.write(` done in ${((performance.now() - started) / 1000).toFixed(1)} s (${size})\n`);
      }
      if (report) process.stdout.write(JSON.stringify({ ready: name, out: spec.out }) + '\n');
    } catch (err) {
      progress.write(`${announced ? '' : label} failed\n`);
      const message = err instanceof Error ? err.message : String(err);
      failures.push(message);
      if (report) process.stdout.write(JSON.stringify({ failed: name, error: message }) + '\n');
    }
  }
  if (failures.length > 0) {
    process.stderr.write(`\n${failures.length} guest(s) failed to build:\n\n${failures.join('\n\n')}\n`);
    process.exitCode = 1;
  }
}

async function buildWorlds(): Promise<void> {
  const witDir = await prepareWorldWit(path.join(WORLD_FIXTURES_DIR, 'wit'), path.join(WORLDS_OUT_DIR, 'wit'));
  const guests = worldGuests(WORLD_FIXTURES_DIR, WORLDS_OUT_DIR, await fs.readdir(WORLD_FIXTURES_DIR));
  await removeStale(WORLDS_OUT_DIR, new Set(guests.map((g) => g.out)));
  const failures: string[] = [];
  for (const guest of guests) {
    const started = performance.now();
    try {
      const { bytes, cached } = await buildWorldGuest(guest, witDir);
      const size = `${(bytes.length / 1024).toFixed(bytes.length < 10240 ? 1 : 0)} KiB`;
      process.stdout.write(`${guest.name}: ${cached ? 'cached' : `built in ${((performance.now() - started) / 1000).toFixed(1)} s`} (${size})\n`);
    } catch (err) {
      process.stdout.write(`${guest.name}: failed\n`);
      failures.push(`${guest.source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length > 0) {
    process.stderr.write(`\n${failures.length} guest(s) failed to build:\n\n${failures.join('\n\n')}\n`);
    process.exitCode = 1;
  }
}

(process.argv.includes('--worlds') ? buildWorlds() : main()).catch((err: unknown) => {
  process.stderr.write(`build failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
