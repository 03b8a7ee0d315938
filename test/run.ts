// Runs the whole uvu suite from dist/ and ends with one summary line ("N passed, N failed,
// N skipped") that CI tooling understands, keeping uvu's exit code.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// uvu exports neither its package.json nor its bin; its entry point sits in dist/ beside bin.js.
const uvu = path.join(path.dirname(require.resolve('uvu')), '..', 'bin.js');
const dir = fileURLToPath(new URL('.', import.meta.url));
const pattern = process.argv[2] ?? '\\.test\\.js$';

const child = spawn(process.execPath, [uvu, dir, pattern], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  const skipped = count('Skipped');
  // uvu's Total counts the tests that ran; skipped ones are reported apart.
  process.stdout.write(`\n${passed} passed, ${total - passed} failed, ${skipped} skipped\n`);
  process.exit(code ?? (signal ? 1 : 0));
});
