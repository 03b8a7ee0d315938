// The Python example (functions/movingaverage-py), built with the project's componentize-py and
// run on a node started as an operator starts one: it needs only imports the node provides, and
// it answers and stores exactly what the JavaScript port of the same paper function does.
//
// The first run installs the Python toolchain from PyPI into the tool cache (under a minute);
// later runs reuse it and the cached build.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { buildGuest } from '../../runtime/build/build-guest.js';
import { ensurePythonTools } from '../../runtime/build/python-tools.js';
import { loadToolConfig } from '../../runtime/config.js';
import { WASI_BASE, WASI_SOCKETS } from '../../runtime/functions/worlds.js';
import { startCliNode, type CliNode } from '../helpers/cli-node.js';
import { guest, startTestNode } from '../helpers/test-node.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WIT = path.join(ROOT, 'wit');
const OUT = path.join(ROOT, 'functions', 'build', 'python');

/** Builds a Python guest into functions/build/python/ (cached by its stamp). */
async function buildPython(source: string, name: string): Promise<Uint8Array> {
  const result = await buildGuest({ source, out: path.join(OUT, `${name}.wasm`), witDir: WIT, tools: loadToolConfig() });
  return result.bytes;
}

const test = suite<{ node: CliNode; python: Uint8Array }>('functions: movingaverage-py (Python guest)');

test.before(async (ctx) => {
  await ensurePythonTools(loadToolConfig(), { onInstall: (message) => process.stderr.write(`${message}\n`) });
  ctx.python = await buildPython(path.join(ROOT, 'functions', 'movingaverage-py', 'app.py'), 'movingaverage-py');
  // Node 20's V8 needs a flag for componentize-py's output (see runtime/build/engine-support.ts).
  ctx.node = await startCliNode([]);
  for (const [name, bytes] of [
    ['movingaverage', await guest('movingaverage')],
    ['movingaverage-py', ctx.python],
  ] as const) {
    const res = await ctx.node.admin('PUT', `/functions/${name}`, bytes as Uint8Array<ArrayBuffer>);
    assert.ok(res.ok, `deploy ${name}: ${await res.text()}`);
  }
});
test.after(async (ctx) => {
  await ctx.node?.stop();
});

test('the component imports only interfaces the node provides, wasi:sockets among them', async ({ python }) => {
  const { componentWit } = await import('@bytecodealliance/jco');
  const wit = await componentWit(python);
  const imports = [...wit.matchAll(/^\s*import ([a-z-]+:[a-z-]+\/[a-z-]+)@[^;]+;/gm)].map((m) => m[1]);
  const provided = new Set([...WASI_BASE, ...WASI_SOCKETS, 'enoki:faas/types', 'enoki:faas/kv', 'enoki:faas/atomics', 'enoki:faas/log', 'enoki:faas/env', 'enoki:faas/invoke']);
  // componentize-py's CPython imports the sockets whether or not the guest opens one.
  assert.ok(imports.includes('wasi:sockets/tcp'), wit.slice(0, 400));
  assert.ok(imports.includes('enoki:faas/kv'), wit.slice(0, 400));
  assert.equal(imports.filter((name) => !provided.has(name)), [], 'imports the node does not provide');
  assert.match(wit, /export enoki:faas\/handler@0\.1\.0;/);
});

test('answers every request as the JavaScript port does, and stores the same items', async ({ node }) => {
  const bodies = [
    '10', '20', '0-10', '1-100', '1-100', '0-40', '2-7', '0--5', ' 3-9 ', '+1-+3',
    ...Array.from({ length: 14 }, (_, i) => `0-${i * 3}`),
    '0-x', '', 'hello world', '30-1', '99-1', '1-2-3', '5',
  ];
  for (const body of bodies) {
    const [js, py] = await Promise.all(
      ['movingaverage', 'movingaverage-py'].map(async (name) => {
        const res = await fetch(`${node.url}/fn/${name}`, { method: 'POST', body });
        return { status: res.status, text: await res.text() };
      }),
    );
    assert.equal(py, js, `body ${JSON.stringify(body)}`);
  }
  const items = async (kg: string) => {
    const res = await node.admin('GET', `/keygroups/${kg}/items?count=1000`);
    const text = await res.text();
    assert.is(res.status, 200, text);
    return JSON.parse(text) as { items: { id: string; siblings: { value: string }[] }[] };
  };
  // A function's keygroup is its name without dashes.
  const [js, py] = [await items('movingaverage'), await items('movingaveragepy')];
  assert.ok(js.items.length > 10);
  assert.equal(
    py.items.map((i) => [i.id, i.siblings.map((s) => s.value)]),
    js.items.map((i) => [i.id, i.siblings.map((s) => s.value)]),
  );
});

test('a Python guest that opens a socket gets an OSError (no network) it may handle; unhandled, it traps; print goes to the log', async ({ node }) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-py-socket-'));
  try {
    await fs.writeFile(
      path.join(dir, 'app.py'),
      [
        'import socket',
        'from wit_world import exports',
        'from wit_world.exports.handler import Request, Response',
        '',
        'class Handler(exports.Handler):',
        '    def handle(self, req: Request) -> Response:',
        '        print("handling", req.path)',
        '        if req.path == "/connect":',
        '            socket.socket(socket.AF_INET, socket.SOCK_STREAM)',
        '        if req.path == "/try":',
        '            try:',
        '                socket.socket(socket.AF_INET, socket.SOCK_STREAM)',
        '            except OSError as e:',
        '                return Response(503, [], f"no network: {e.strerror}".encode())',
        '        return Response(200, [], b"no socket needed")',
        '',
      ].join('\n'),
    );
    const bytes = await buildPython(path.join(dir, 'app.py'), 'socket-user');
    const deployed = await node.admin('PUT', '/functions/socket-user', bytes as Uint8Array<ArrayBuffer>);
    assert.ok(deployed.ok, await deployed.text());
    const plain = await fetch(`${node.url}/fn/socket-user`);
    assert.is(await plain.text(), 'no socket needed');
    const handled = await fetch(`${node.url}/fn/socket-user/try`);
    assert.is(handled.status, 503);
    assert.is(await handled.text(), 'no network: Not supported');
    const connect = await fetch(`${node.url}/fn/socket-user/connect`);
    assert.is(connect.status, 500);
    const trap = ((await connect.json()) as { error: { code: string; message: string } }).error;
    assert.is(trap.code, 'ERR_GUEST_TRAP');
    // The exception, the traceback's last line, is in the message, not only its first frames.
    assert.match(trap.message, /\(stderr: Traceback \(most recent call last\): \| OSError: \[Errno 58\] Not supported \|/);
    assert.is((await fetch(`${node.url}/fn/socket-user`)).status, 200);
    const logs = (await (await node.admin('GET', '/functions/socket-user/logs')).json()) as { invocations: { lines: { message: string }[] }[] };
    const printed = logs.invocations.flatMap((i) => i.lines.map((l) => l.message));
    assert.ok(printed.includes('handling /connect'), JSON.stringify(printed));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('deployed and served by an in-process node on every supported Node', async ({ python }) => {
  const n = await startTestNode();
  try {
    const res = await n.deploy('movingaverage-py', python);
    assert.is(res.status, 201, await res.text());
    assert.is(await (await n.call('movingaverage-py', { method: 'POST', body: '0-4' })).text(), '4');
  } finally {
    await n.close();
  }
});

test.run();
