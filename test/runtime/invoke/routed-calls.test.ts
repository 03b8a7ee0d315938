// Calls to functions of another node (ENOKI_FUNCTION_ROUTES): forwarded over HTTP with the call's
// context (signed with the nodes' shared secret), local functions first, the other node's errors
// as call-errors; and over mutual TLS, where the node certificate vouches for the context.

import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { runCertsCommand } from '../../../replication/security/certs-cli.js';
import { loadConfig } from '../../../runtime/config.js';
import { CallSigner } from '../../../runtime/invoke/call-signature.js';
import { startNode, type RunningNode } from '../../../runtime/node.js';
import { guest, startTestNode, TOKEN, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ edge: TestNode; far: TestNode }>('invoke: calls routed to another node');
const SECRET = 'the secret these two nodes share';

test.before(async (ctx) => {
  // The far node allows chains of one call only, to show that the depth travels with the call.
  ctx.far = await startTestNode({ workers: 1, maxCallDepth: 1, callSecret: SECRET });
  const farDeploys: [string, string][] = [
    ['far', 'echo'],
    ['echo', 'hello'],
    ['bouncer', 'fixtures/caller.wasm'],
    ['localecho', 'echo'],
  ];
  for (const [name, file] of farDeploys) assert.ok((await ctx.far.deploy(name, await guest(file))).ok, name);
  const far = ctx.far.url;
  ctx.edge = await startTestNode({
    workers: 2,
    callSecret: SECRET,
    functionRoutes: { byName: { far, ghost: far, echo: far, bouncer: far, dead: 'http://127.0.0.1:9' } },
  });
  assert.ok((await ctx.edge.deploy('caller', await guest('fixtures/caller.wasm'))).ok);
  assert.ok((await ctx.edge.deploy('echo', await guest('echo'))).ok);
});
test.after(async (ctx) => {
  await ctx.edge?.close();
  await ctx.far?.close();
});

async function callError(res: Response): Promise<{ tag: string; val: string }> {
  const tag = res.headers.get('x-call-error');
  const body = await res.text();
  assert.ok(tag, `expected a call-error, got ${res.status}: ${body}`);
  return JSON.parse(body) as { tag: string; val: string };
}

test("a routed call returns the other node's function's response, with the call's context", async ({ edge, far }) => {
  const res = await edge.call('caller', { method: 'POST', path: '/to/far/x?q=1', body: 'hi' });
  assert.is(res.status, 200);
  const echoed = (await res.json()) as { method: string; path: string; query: string; headers: [string, string][]; body: string };
  assert.equal([echoed.method, echoed.path, echoed.query, echoed.body], ['POST', '/x', 'q=1', 'hi']);
  const header = (name: string) => echoed.headers.find(([k]) => k === name)?.[1];
  const callerId = res.headers.get('x-enoki-invocation-id');
  assert.is(header('x-enoki-call-depth'), '1');
  assert.is(header('x-enoki-caller'), callerId);
  const logs = (await (await far.admin('GET', '/functions/far/logs')).json()) as { invocations: { caller?: string }[] };
  assert.is(logs.invocations.at(-1)?.caller, callerId);
});

test('a function deployed on this node wins over its route', async ({ edge }) => {
  const res = await edge.call('caller', { path: '/to/echo/here' });
  assert.is(((await res.json()) as { path: string }).path, '/here');
});

test("the other node's errors come back as call-errors", async ({ edge }) => {
  const missing = await callError(await edge.call('caller', { path: '/to/ghost' }));
  assert.is(missing.tag, 'not-found');
  assert.match(missing.val, /^ERR_FUNCTION_NOT_FOUND: ghost on 127\.0\.0\.1:\d+/);
  const dead = await callError(await edge.call('caller', { path: '/to/dead' }));
  assert.is(dead.tag, 'unavailable');
  assert.match(dead.val, /^ERR_CALL_UNAVAILABLE: /);
  const unrouted = await callError(await edge.call('caller', { path: '/to/nowhere' }));
  assert.is(unrouted.tag, 'not-found');
  // A path that would leave the callee's route on the other node is refused before sending.
  const escape = await callError(await edge.call('caller', { path: '/escape/far' }));
  assert.is(escape.tag, 'failed');
  assert.match(escape.val, /^ERR_BAD_REQUEST: invalid path/);
});

test('the call depth travels between nodes', async ({ edge, far }) => {
  // bouncer (depth 1 on the far node, its limit) calls localecho there: depth 2 is refused.
  const error = await callError(await edge.call('caller', { path: '/to/bouncer/to/localecho' }));
  assert.is(error.tag, 'too-deep');
  // Said directly to the far node with a node's signature: a call already too deep runs nothing.
  const signer = new CallSigner(SECRET, 30_000);
  const signed = (depth: string) => ({
    'x-enoki-call-depth': depth,
    'x-enoki-caller': 'inv-x',
    'x-enoki-call-signature': signer.sign({ method: 'GET', target: '/fn/localecho', depth, caller: 'inv-x', async: false }),
  });
  const res = await far.call('localecho', { headers: signed('2') });
  assert.is(res.status, 508);
  assert.is(res.headers.get('x-enoki-error-code'), 'ERR_CALL_TOO_DEEP');
  const bad = await far.call('localecho', { headers: signed('deep') });
  assert.is(bad.status, 400);
  // The same headers unsigned are a client's: removed, and the call runs as an ordinary one.
  const plain = await far.call('localecho', { headers: { 'x-enoki-call-depth': '2' } });
  assert.is(plain.status, 200);
});

test("a routed call-async answers the other node's invocation id", async ({ edge, far }) => {
  const auth = { authorization: 'Bearer someone' };
  const res = await edge.call('caller', { method: 'POST', path: '/async/far/later', body: 'payload', headers: auth });
  assert.is(res.status, 202);
  const id = await res.text();
  assert.is((await fetch(`${far.url}/invocations/${id}`)).status, 404, 'not without the credentials the call carried');
  let result: Response | undefined;
  for (let i = 0; i < 100; i++) {
    result = await fetch(`${far.url}/invocations/${id}`, { headers: auth });
    if (result.status !== 202) break;
    await result.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.is(result?.status, 200);
  assert.equal(((await result!.json()) as { path: string; body: string }).body, 'payload');
});

test.run();

// Over HTTPS: the far node requires client certificates of the cluster CA (mtls); the calling
// node trusts the CA and presents its own certificate.
const tls = suite<{ root: string; edge?: RunningNode; far?: RunningNode }>('invoke: routed calls over mutual TLS');

function httpsCall(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      })
      .on('error', reject);
  });
}

tls.before(async (ctx) => {
  ctx.root = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-calls-tls-'));
  const certsDir = path.join(ctx.root, 'certs');
  await runCertsCommand({ dir: certsDir, nodes: [{ id: 'edge1', hosts: ['127.0.0.1'] }, { id: 'cloud1', hosts: ['127.0.0.1'] }] });
  const start = (nodeId: string, mode: 'tls' | 'mtls', routes: Record<string, string>) =>
    startNode(
      loadConfig(
        { port: 0, host: '127.0.0.1', dataDir: path.join(ctx.root, nodeId), adminToken: TOKEN, nodeId, workers: 1, httpTls: { mode, certsDir }, functionRoutes: { byName: routes } },
        {},
      ),
      pino({ level: 'silent' }),
    );
  ctx.far = await start('cloud1', 'mtls', {});
  await ctx.far.functions.deploy('far', await guest('echo'));
  ctx.edge = await start('edge1', 'tls', { far: ctx.far.url });
  await ctx.edge.functions.deploy('caller', await guest('fixtures/caller.wasm'));
});
tls.after(async (ctx) => {
  await ctx.edge?.close();
  await ctx.far?.close();
  await fs.rm(ctx.root, { recursive: true, force: true });
});

tls('a call routed to an mtls node is made with the node certificate', async ({ root, edge }) => {
  const ca = await fs.readFile(path.join(root, 'certs', 'ca.pem'));
  const res = await httpsCall(`${edge!.url}/fn/caller/to/far/secure`, ca);
  assert.is(res.status, 200, res.body);
  const echoed = JSON.parse(res.body) as { path: string; headers: [string, string][] };
  assert.is(echoed.path, '/secure');
  // No shared secret here: the node certificate is what makes the far node honour the context.
  assert.is(echoed.headers.find(([k]) => k === 'x-enoki-call-depth')?.[1], '1');
});

tls.run();
