// `enoki wait`: returns once the node answers GET /readyz with 200, and fails after its timeout.

import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../../runtime/config.js';
import { startNode } from '../../../runtime/node.js';
import { TOKEN } from '../../helpers/test-node.js';

const CLI = fileURLToPath(new URL('../../../runtime/cli/main.js', import.meta.url));
const test = suite('cli: enoki wait');

function run(args: string[]): { exited: Promise<{ code: number | null; stderr: string }>; done: () => boolean } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ENOKI_ADMIN_TOKEN: TOKEN } });
  let stderr = '';
  let finished = false;
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('close', (code) => {
      finished = true;
      resolve({ code, stderr });
    }),
  );
  return { exited, done: () => finished };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('waits while the node starts (not even listening, then not ready), returns once it is ready', async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-wait-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const waiting = run(['wait', '--url', url, '--timeout', '120']);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const starting = startNode(loadConfig({ port, host: '127.0.0.1', dataDir, adminToken: TOKEN, workers: 1, prewarm: false }, {}), pino({ level: 'silent' }), {
    startup: () => gate,
  });
  try {
    for (let i = 0; i < 300 && (await fetch(`${url}/readyz`).catch(() => undefined)) === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    // Listening but not ready: the command keeps waiting.
    await new Promise((r) => setTimeout(r, 600));
    assert.is(waiting.done(), false);
    release();
    const node = await starting;
    const { code, stderr } = await waiting.exited;
    assert.is(code, 0, stderr);
    assert.match(stderr, /is ready/);
    await node.close();
  } finally {
    release();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});

test('fails after its timeout when no node answers', async () => {
  const { code, stderr } = await run(['wait', '--url', `http://127.0.0.1:${await freePort()}`, '--timeout', '1']).exited;
  assert.is(code, 1);
  assert.match(stderr, /not ready after 1 s/);
});

test.run();
