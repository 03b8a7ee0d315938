// The HTTP API over TLS with the node's certificate; in mtls mode only clients holding a
// certificate of the cluster CA get through.

import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { runCertsCommand } from '../../../replication/security/certs-cli.js';
import { loadConfig } from '../../../runtime/config.js';
import { startNode, type RunningNode } from '../../../runtime/node.js';
import { guest } from '../../helpers/test-node.js';

const test = suite<{ root: string; certs: string; other: string }>('http: TLS');
/** The Rust guests of test/fixtures/rust/: its wasi:http one answers /headers with its scheme. */
const RUST = fileURLToPath(new URL('../../../../test/fixtures/rust/', import.meta.url));

test.before(async (ctx) => {
  ctx.root = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-https-'));
  ctx.certs = path.join(ctx.root, 'certs');
  ctx.other = path.join(ctx.root, 'other');
  await runCertsCommand({ dir: ctx.certs, nodes: [{ id: 'edge1', hosts: ['127.0.0.1'] }], clients: ['alice', 'bob'] });
  await runCertsCommand({ dir: ctx.other, clients: ['mallory'] });
});
test.after(async (ctx) => {
  await fs.rm(ctx.root, { recursive: true, force: true });
});

async function start(root: string, certsDir: string, mode: 'tls' | 'mtls'): Promise<RunningNode> {
  const config = loadConfig({ port: 0, host: '127.0.0.1', dataDir: path.join(root, mode), adminToken: 't', nodeId: 'edge1', httpTls: { mode, certsDir } }, {});
  return startNode(config, pino({ level: 'silent' }));
}

function get(url: string, tls: https.RequestOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(`${url}/healthz`, { ...tls, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

async function refused(request: Promise<number>, why: string): Promise<void> {
  const outcome = await request.then((status) => `answered ${status}`, () => 'refused');
  assert.is(outcome, 'refused', why);
}

const pem = async (dir: string, name: string) => fs.readFile(path.join(dir, `${name}.pem`));

test('tls: the node serves HTTPS with its certificate, verified against the cluster CA', async ({ root, certs }) => {
  const node = await start(root, certs, 'tls');
  try {
    assert.match(node.url, /^https:\/\//);
    assert.is(await get(node.url, { ca: await pem(certs, 'ca') }), 200);
    await refused(get(node.url, {}), 'a client that does not trust the cluster CA refuses the node');
  } finally {
    await node.close();
  }
});

test('mtls: only clients with a certificate of the cluster CA get through', async ({ root, certs, other }) => {
  const node = await start(root, certs, 'mtls');
  try {
    const ca = await pem(certs, 'ca');
    assert.is(await get(node.url, { ca, cert: await pem(certs, 'alice'), key: await pem(certs, 'alice-key') }), 200);
    await refused(get(node.url, { ca }), 'no client certificate');
    await refused(get(node.url, { ca, cert: await pem(other, 'mallory'), key: await pem(other, 'mallory-key') }), 'another CA');
  } finally {
    await node.close();
  }
});

test('tls: a wasi:http guest is told its request came over HTTPS', async ({ root, certs }) => {
  const node = await start(root, certs, 'tls');
  try {
    await node.functions.deploy('rs-http', await fs.readFile(path.join(RUST, 'http-guest.wasm')));
    const answer = await request(`${node.url}/fn/rs-http/headers`, { ca: await pem(certs, 'ca') });
    assert.is(answer.status, 200, answer.body);
    assert.is(answer.body, `https ${new URL(node.url).host}`);
  } finally {
    await node.close();
  }
});

function request(url: string, tls: https.RequestOptions & { headers?: Record<string, string> }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ...tls, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      })
      .on('error', reject);
  });
}

test('mtls: an async result is read with the client certificate that invoked it', async ({ root, certs }) => {
  const node = await start(root, certs, 'mtls');
  try {
    await node.functions.deploy('echo', await guest('echo'));
    const ca = await pem(certs, 'ca');
    const alice = { ca, cert: await pem(certs, 'alice'), key: await pem(certs, 'alice-key') };
    const bob = { ca, cert: await pem(certs, 'bob'), key: await pem(certs, 'bob-key') };
    const started = await request(`${node.url}/fn/echo`, { ...alice, headers: { 'x-enoki-async': 'true' } });
    assert.is(started.status, 202);
    const { invocationId, resultToken } = JSON.parse(started.body) as { invocationId: string; resultToken?: string };
    assert.is(resultToken, undefined, 'the certificate is a credential: no token');
    let result = await request(`${node.url}/invocations/${invocationId}`, alice);
    for (let i = 0; i < 100 && result.status === 202; i++) {
      await new Promise((r) => setTimeout(r, 50));
      result = await request(`${node.url}/invocations/${invocationId}`, alice);
    }
    assert.is(result.status, 200);
    assert.is((await request(`${node.url}/invocations/${invocationId}`, bob)).status, 404);
    assert.is((await request(`${node.url}/invocations/${invocationId}`, { ...bob, headers: { authorization: 'Bearer t' } })).status, 200, 'the admin token');
  } finally {
    await node.close();
  }
});

test('mtls: call headers count from a node certificate only, not from a client certificate', async ({ root, certs }) => {
  const node = await start(root, certs, 'mtls');
  try {
    await node.functions.deploy('echo', await guest('echo'));
    const ca = await pem(certs, 'ca');
    const headers = { 'x-enoki-call-depth': '1', 'x-enoki-caller': 'c1' };
    const depthSeen = (body: string) => (JSON.parse(body) as { headers: [string, string][] }).headers.find(([k]) => k === 'x-enoki-call-depth')?.[1];
    const fromClient = await request(`${node.url}/fn/echo`, { ca, cert: await pem(certs, 'alice'), key: await pem(certs, 'alice-key'), headers });
    assert.is(fromClient.status, 200);
    assert.is(depthSeen(fromClient.body), undefined);
    const fromNode = await request(`${node.url}/fn/echo`, { ca, cert: await pem(certs, 'edge1'), key: await pem(certs, 'edge1-key'), headers });
    assert.is(fromNode.status, 200);
    assert.is(depthSeen(fromNode.body), '1');
  } finally {
    await node.close();
  }
});

test('ENOKI_HTTP_TLS is read from the environment and checked', () => {
  const config = loadConfig({}, { ENOKI_HTTP_TLS: 'mtls', ENOKI_CERTS_DIR: '/certs' });
  assert.equal(config.httpTls, { mode: 'mtls', certsDir: '/certs' });
  assert.throws(() => loadConfig({}, { ENOKI_HTTP_TLS: 'yes' }), /ENOKI_HTTP_TLS must be off, tls or mtls/);
});

test.run();
