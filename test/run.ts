// Runs the whole uvu suite from dist/ on every Node the project supports that is at hand — the
// reference Node 24 (the node-linux-* package the project installs) and the Node that runs npm,
// when that is another version — and ends with one summary line ("N passed, N failed, N skipped")
// that CI tooling understands, failing if any run failed. Guests run inline (JSPI) on Node 24 and
// on worker threads on older Nodes: both engines are tested.
//
//   node dist/test/run.js [pattern]      ENOKI_TEST_NODES=current runs only the current Node

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// uvu exports neither its package.json nor its bin; its entry point sits in dist/ beside bin.js.
const uvu = path.join(path.dirname(require.resolve('uvu')), '..', 'bin.js');
const dir = fileURLToPath(new URL('.', import.meta.url));
const root = path.resolve(dir, '..', '..');
const pattern = process.argv[2] ?? '\\.test\\.js$';
/**
 * On Nodes other than the first, the tests of other systems' suites (FReD's own 3NodeTest against
 * mixed clusters: minutes, and nothing of the execution engine) are left to the first run.
 */
const SECOND_RUN_EXCLUDES = /^interop\//;

function versionOf(node: string): string | undefined {
  const out = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

/** The Nodes to run on, each once: this one, the reference package's, the one running npm. */
function nodes(): { node: string; version: string }[] {
  const candidates = [process.execPath];
  if (process.env.ENOKI_TEST_NODES !== 'current') {
    candidates.push(path.join(root, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node'));
    if (process.env.npm_node_execpath) candidates.push(process.env.npm_node_execpath);
  }
  const seen = new Map<string, string>();
  for (const node of candidates) {
    if (!existsSync(node)) continue;
    const version = versionOf(node);
    if (version && !seen.has(version)) seen.set(version, node);
  }
  return [...seen].map(([version, node]) => ({ node, version }));
}

/**
 * The failures of a run, each as its test file, uvu's FAIL line and the message under it (no
 * stack), so that the end of a long log (all some CI views show) says what failed.
 */
function failureDigest(plain: string): string[] {
  const failures: string[] = [];
  let file = '';
  let current: string[] | undefined;
  for (const line of plain.split('\n')) {
    if (/^\S.*\.test\.js$/.test(line)) file = line;
    if (/^\s+FAIL\s/.test(line)) {
      current = [`${file}${line.trimEnd()}`];
      failures.push('');
      continue;
    }
    if (!current) continue;
    if (line.trim() !== '') current.push(`      ${line.trim()}`);
    // The message and the first frames of its stack: where it failed, not the test runner's frames.
    const frames = current.filter((l) => /^\s+at /.test(l)).length;
    if (frames >= 3 || current.length >= 16) {
      failures[failures.length - 1] = current.join('\n');
      current = undefined;
    }
  }
  if (current) failures[failures.length - 1] = current.join('\n');
  return failures;
}

function run(node: string, ignore?: RegExp): Promise<{ code: number; passed: number; failed: number; skipped: number; failures: string[] }> {
  return new Promise((resolve) => {
    const args = [uvu, dir, pattern, ...(ignore ? ['--ignore', ignore.source] : [])];
    const child = spawn(node, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('exit', (code, signal) => {
      // eslint-disable-next-line no-control-regex
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
      const count = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? 0);
      const total = count('Total');
      const passed = count('Passed');
      // uvu's Total counts the tests that ran; skipped ones are reported apart. A run that died
      // before its summary counts as one failure.
      const died = code !== 0 && total === 0;
      const failures = failureDigest(plain);
      if (died) failures.push(`the run ended before its summary (exit code ${code}, signal ${signal})`);
      resolve({ code: code ?? (signal ? 1 : 0), passed, failed: total - passed + (died ? 1 : 0), skipped: count('Skipped'), failures });
    });
  });
}

const results: string[] = [];
const digests: string[] = [];
let passed = 0;
let failed = 0;
let skipped = 0;
let exitCode = 0;
for (const [i, { node, version }] of nodes().entries()) {
  const ignore = i > 0 && process.argv[2] === undefined ? SECOND_RUN_EXCLUDES : undefined;
  process.stdout.write(`\n=== the test suite on Node ${version} (${node})${ignore ? `, without ${ignore.source}` : ''}\n`);
  const r = await run(node, ignore);
  results.push(`Node ${version}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  if (r.failures.length > 0) digests.push(`\nFailed on Node ${version}:\n${r.failures.map((f) => `  ${f}`).join('\n')}\n`);
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
  // uvu's own exit code stays 0 when a suite's `before` hook throws (its tests are counted as not
  // passed, but no error is recorded): the counts decide too.
  if (r.code !== 0 || r.failed > 0) exitCode = r.code || 1;
}
process.stdout.write(`${digests.join('')}\n${results.join('\n')}\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(exitCode);
