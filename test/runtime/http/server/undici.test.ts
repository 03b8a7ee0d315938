// A node that serves deploys, calls, health and metrics never loads undici, Node's fetch
// implementation: it would hold some 15 MiB of the node's memory from then on (see
// runtime/node-http.ts and runtime/http/server/fetch-globals.ts).
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCliNode } from '../../../helpers/cli-node.js';
import { guest } from '../../../helpers/test-node.js';

test('a node serving calls has not loaded undici', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-undici-'));
  const out = path.join(dir, 'modules.json');
  const preload = path.join(dir, 'report.mjs');
  // Loaded into the node before its own code: writes the pid, and on SIGUSR2 the built-in modules
  // loaded so far.
  await fs.writeFile(
    preload,
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(`${out}.pid`)}, String(process.pid));\n` +
      `process.on('SIGUSR2', () => writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)));\n`,
  );
  const node = await startCliNode(['--import', preload]);
  try {
    assert.is((await node.admin('PUT', '/functions/hello', (await guest('hello')) as Uint8Array<ArrayBuffer>)).status, 201);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${node.url}/fn/hello`, { method: 'POST', body: 'x' });
      assert.is(res.status, 200);
      await res.arrayBuffer();
    }
    for (const route of ['/healthz', '/metrics', '/functions', '/no/such/route']) await (await node.admin('GET', route)).arrayBuffer();
    const pid = Number(await fs.readFile(`${out}.pid`, 'utf8'));
    process.kill(pid, 'SIGUSR2');
    let modules: string[] | undefined;
    for (let i = 0; i < 100 && !modules; i++) {
      await new Promise((r) => setTimeout(r, 50));
      modules = await fs.readFile(out, 'utf8').then((text) => JSON.parse(text) as string[], () => undefined);
    }
    assert.ok(modules && modules.some((m) => m.includes('_http_server')), 'the report lists the node’s modules');
    assert.equal(modules!.filter((m) => m.includes('undici')), []);
  } finally {
    await node.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test.run();
