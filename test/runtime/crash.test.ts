// Durability: every write acknowledged to a client survives `kill -9` of the node process.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, TOKEN } from '../helpers/test-node.js';

const CLI = fileURLToPath(new URL('../../runtime/cli/main.js', import.meta.url));
const test = suite('crash durability');

async function startProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, ENOKI_ADMIN_TOKEN: TOKEN, ENOKI_HOST: '127.0.0.1', ENOKI_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start: ${output}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`node exited with ${code}: ${output}`)));
  });
  return { child, url };
}

test('acknowledged increments survive kill -9 mid-load', async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-crash-'));
  try {
    let { child, url } = await startProcess(dataDir);
    const deploy = await fetch(`${url}/functions/counter`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: (await guest('counter')) as Uint8Array<ArrayBuffer>,
    });
    assert.ok(deploy.ok, await deploy.text());

    // Keep calling until the process dies under us; remember the highest acknowledged count.
    let acknowledged = 0;
    const load = (async () => {
      for (;;) {
        try {
          const res = await fetch(`${url}/fn/counter`);
          if (res.status === 200) acknowledged = Math.max(acknowledged, Number(await res.text()));
        } catch {
          return;
        }
      }
    })();
    // Kill mid-load once a good number of increments were acknowledged (bounded wait, so a
    // loaded machine only makes the test slower, not wrong).
    const deadline = Date.now() + 30_000;
    while (acknowledged < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await load;
    assert.ok(acknowledged > 10, `only ${acknowledged} increments before the kill`);

    ({ child, url } = await startProcess(dataDir));
    try {
      const next = Number(await (await fetch(`${url}/fn/counter`)).text());
      // Every acknowledged increment is there; at most the in-flight ones beyond it may be too.
      assert.ok(next > acknowledged, `after restart ${next}, acknowledged ${acknowledged}`);
      assert.ok(next <= acknowledged + 3, `after restart ${next}, acknowledged ${acknowledged}`);
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
