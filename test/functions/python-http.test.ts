// A Python component of the standard wasi:http/proxy world, built with componentize-py against the
// world's own WIT (no Enoki interface: what someone writing for any wasi:http host builds), on a
// node started as an operator starts one. It imports outgoing-handler, as every componentize-py
// proxy does: on Node 24 it runs on the event loop all the same (no worker starts), each request
// its own answer, its outgoing requests held to the function's allow-list, and its traceback's
// exception in the error a failed call gets.
//
// The first run installs the Python toolchain from PyPI into the tool cache (under a minute).

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { buildGuest } from '../../runtime/build/build-guest.js';
import { ensurePythonTools } from '../../runtime/build/python-tools.js';
import { loadToolConfig } from '../../runtime/config.js';
import { hasJspi } from '../../runtime/exec/inline/jspi.js';
import { startCliNode, type CliNode } from '../helpers/cli-node.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE = path.join(ROOT, 'test', 'fixtures', 'python-http', 'app.py');
const OUT = path.join(ROOT, 'functions', 'build', 'python', 'python-http.wasm');

/** A WIT folder with the proxy world and WASI 0.2.12 as jco ships it. */
async function proxyWit(dir: string): Promise<string> {
  const jcoMain = new URL(import.meta.resolve('@bytecodealliance/jco')).pathname;
  const wasi = path.join(path.dirname(jcoMain), '..', 'lib', 'wit', 'builtin', '0.2.12');
  for (const pkg of await fs.readdir(wasi)) {
    await fs.mkdir(path.join(dir, 'deps', pkg), { recursive: true });
    await fs.copyFile(path.join(wasi, pkg, 'package.wit'), path.join(dir, 'deps', pkg, 'package.wit'));
  }
  await fs.writeFile(path.join(dir, 'world.wit'), 'package test:python-http;\n\nworld proxy-app {\n  include wasi:http/proxy@0.2.12;\n}\n');
  return dir;
}

const sha12 = (text: string) => crypto.createHash('sha256').update(text).digest('hex').slice(0, 12);

const test = suite<{ node: CliNode; upstream: http.Server; port: number; wit: string }>('functions: a componentize-py wasi:http/proxy component');

test.before(async (ctx) => {
  await ensurePythonTools(loadToolConfig(), { onInstall: (message) => process.stderr.write(`${message}\n`) });
  ctx.wit = await proxyWit(await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-proxy-wit-')));
  const { bytes } = await buildGuest({ source: SOURCE, out: OUT, witDir: ctx.wit, world: 'proxy-app', tools: loadToolConfig() });
  // /slow answers after 600 ms.
  ctx.upstream = http.createServer((req, res) => setTimeout(() => res.writeHead(202).end(`hello ${req.url}`), req.url === '/slow' ? 600 : 0));
  await new Promise<void>((resolve) => ctx.upstream.listen(0, '127.0.0.1', resolve));
  ctx.port = (ctx.upstream.address() as AddressInfo).port;
  // A process of its own: Node 20's V8 needs a flag for componentize-py's output (engine-support.ts).
  ctx.node = await startCliNode([]);
  const res = await ctx.node.admin('PUT', `/functions/py-proxy?allowHost=127.0.0.1:${ctx.port}&timeoutMs=5000`, bytes as Uint8Array<ArrayBuffer>);
  assert.is(res.status, 201, await res.text());
});
test.after(async (ctx) => {
  await ctx.node?.stop();
  await new Promise((resolve) => ctx.upstream?.close(resolve));
  if (ctx.wit) await fs.rm(ctx.wit, { recursive: true, force: true });
});

test("the toolchain's own componentize-py runs from where it is installed, as a user would run it", async () => {
  const tools = await ensurePythonTools(loadToolConfig());
  const { stdout } = await promisify(execFile)(path.join(tools.dir, 'bin', 'componentize-py'), ['--version']);
  assert.is(stdout.trim(), 'componentize-py 0.25.1');
});

test('concurrent requests each get the answer to their own path and body', async ({ node }) => {
  const bodies = Array.from({ length: 16 }, (_, i) => `body ${i} ${'z'.repeat(i * 7)}`);
  const answers = await Promise.all(
    bodies.map((body, i) => fetch(`${node.url}/fn/py-proxy/r/${i}`, { method: 'POST', body }).then(async (r) => [r.status, await r.text()] as const)),
  );
  answers.forEach(([status, text], i) => {
    assert.is(status, 201);
    assert.is(text, `py /r/${i} ${bodies[i].length} ${sha12(bodies[i])}`);
  });
  const get = await fetch(`${node.url}/fn/py-proxy/plain`);
  assert.is(get.status, 200);
  assert.is(await get.text(), `py /plain 0 ${sha12('')}`);
});

test('outgoing requests reach an allowed host; others are refused before anything is sent', async ({ node, port }) => {
  const allowed = await fetch(`${node.url}/fn/py-proxy/fetch?port=${port}`);
  assert.is(await allowed.text(), 'upstream 202: hello /from-python');
  const refused = await fetch(`${node.url}/fn/py-proxy/fetch?port=9`);
  assert.is(refused.status, 599);
  assert.is(await refused.text(), 'upstream 599: fetch failed: ErrorCode_HttpRequestDenied');
});

test("the guest's request-options apply: a first-byte timeout shorter than the server's wait fails the request, a longer one does not", async ({ node, port }) => {
  const cut = await fetch(`${node.url}/fn/py-proxy/fetch?port=${port}&path=/slow&first_byte_ms=150`);
  assert.is(await cut.text(), 'upstream 599: fetch failed: ErrorCode_ConnectionReadTimeout');
  const waited = await fetch(`${node.url}/fn/py-proxy/fetch?port=${port}&path=/slow&first_byte_ms=5000`);
  assert.is(await waited.text(), 'upstream 202: hello /slow');
});

test('an exception is ERR_GUEST_TRAP naming it, and the node serves on', async ({ node }) => {
  const res = await fetch(`${node.url}/fn/py-proxy/boom`);
  assert.is(res.status, 500);
  const { error } = (await res.json()) as { error: { code: string; message: string } };
  assert.is(error.code, 'ERR_GUEST_TRAP');
  assert.match(error.message, 'ValueError: boom');
  assert.is((await fetch(`${node.url}/fn/py-proxy/after`)).status, 200);
});

test('on a Node with JSPI it runs on the event loop: no worker was started', async ({ node }) => {
  const workers = Number(/^enoki_workers (\d+)/m.exec(await (await fetch(`${node.url}/metrics`)).text())?.[1]);
  if (hasJspi) assert.is(workers, 0);
  else assert.ok(workers > 0, 'without JSPI, workers serve it');
});

test.run();
