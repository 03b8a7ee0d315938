// Where the FReD build finds Go: the machine's go on PATH or where Go's installer puts it, else
// the pinned toolchain from the module proxy, refused when its bytes are not the pinned ones.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { machineGo, pinnedGo } from './go-toolchain.js';

const test = suite('interop: the Go toolchain for building FReD');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'enoki-go-'));
}

function fakeGo(dir: string, mode = 0o755): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'go'), '#!/bin/sh\necho go version go0.0 fake\n', { mode });
}

test('the first PATH directory with an executable go wins; one without the x bit does not count', () => {
  const root = tempDir();
  try {
    const [a, b, c] = ['a', 'b', 'c'].map((d) => path.join(root, d));
    fakeGo(a, 0o644);
    fakeGo(b);
    fakeGo(c);
    assert.is(machineGo([a, b, c].join(path.delimiter), []), b);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("Go's install directory is found when PATH does not name it, and nothing when neither has go", () => {
  const root = tempDir();
  try {
    const installed = path.join(root, 'usr-local-go-bin');
    fakeGo(installed);
    assert.is(machineGo(path.join(root, 'empty'), [installed]), installed);
    assert.is(machineGo(path.join(root, 'empty'), [path.join(root, 'nowhere')]), undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a toolchain zip whose SHA-256 is not the pinned one is refused, and the cache stays empty', async () => {
  const root = tempDir();
  // The proxy runs in a process of its own: pinnedGo blocks this one while it downloads. (Not
  // console.log: the suite's FORCE_COLOR would colour the port.)
  const server = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('not the toolchain')).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const previous = process.env.GOPROXY;
  try {
    const port = await new Promise<number>((resolve) => server.stdout.once('data', (d: Buffer) => resolve(Number(String(d)))));
    process.env.GOPROXY = `http://127.0.0.1:${port},direct`;
    let message = '';
    try {
      pinnedGo(root);
    } catch (err) {
      message = (err as Error).message;
    }
    assert.match(message, /downloading Go failed: .*SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
    assert.equal(fs.readdirSync(path.join(root, 'enoki-go')), [], 'no toolchain, no partial download left');
  } finally {
    if (previous === undefined) delete process.env.GOPROXY;
    else process.env.GOPROXY = previous;
    server.kill();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test.run();
