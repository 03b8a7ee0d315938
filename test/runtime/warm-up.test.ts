// The warm-up before a node listens: it runs its probe through the invocation path where the
// inline engine exists, leaves nothing a client can see, and a missing or broken probe only
// costs the warm-up, never the start.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { test } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { hasJspi } from '../../runtime/exec/inline/jspi.js';
import { warmUp, PROBE_FILE, type WarmUpDeps } from '../../runtime/warm-up/warm-up.js';
import { InlineCode } from '../../runtime/exec/inline/inline-code.js';
import { InlineEngine } from '../../runtime/exec/inline/inline-engine.js';
import { TemplateStore } from '../../runtime/exec/inline/templates.js';
import { guest, startTestNode, TOKEN } from '../helpers/test-node.js';

const logger = pino({ level: 'silent' });

function deps(dir: string, overrides: Partial<WarmUpDeps> = {}): WarmUpDeps {
  return {
    dir,
    inlineEngine: (artifactDir, templatesDir) => {
      if (!hasJspi) return undefined;
      const templates = new TemplateStore(templatesDir, true, logger);
      return new InlineEngine({ code: new InlineCode(artifactDir, templates), instancesPerCode: 2, maxQueue: 10, memoryBudgetBytes: 64 * 1024 * 1024, sliceMs: 5, logger });
    },
    // A synchronous call of the probe uses neither.
    async: undefined as never,
    access: undefined as never,
    kvLimits: { maxValueBytes: 1024, maxWriteBytes: 4096, maxScanCount: 10 },
    logBytesPerInvocation: 4096,
    maxBodyBytes: 1024 * 1024,
    maxCallDepth: 4,
    logger,
    ...overrides,
  };
}

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'enoki-warm-up-'));
}

test('the probe runs through the invocation path on the inline engine, and only there', async () => {
  const dir = await tempDir();
  try {
    const result = await warmUp(deps(dir));
    if (hasJspi) {
      assert.ok(result.warmed, JSON.stringify(result));
      // Its component and compiled template are kept for the next start.
      const components = await fs.readdir(path.join(dir, 'components'));
      assert.is(components.length, 1);
      assert.ok((await fs.readdir(path.join(dir, 'templates'), { recursive: true })).some((f) => f.endsWith('.wasm')));
    } else {
      assert.equal(result, { warmed: false, reason: 'no inline engine (ENOKI_ENGINE=worker, or a Node without JSPI)' });
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a missing or broken probe is reported, not thrown, and the engine never goes to workers', async () => {
  if (!hasJspi) return; // Without JSPI there is no warm-up to break (see the test above).
  const dir = await tempDir();
  try {
    const missing = await warmUp(deps(dir, { probeFile: path.join(dir, 'nowhere.wasm') }));
    assert.is(missing.warmed, false);
    assert.match((missing as { reason: string }).reason, 'the probe is not built');
    // Not a component: the inline engine cannot read it, and there is no worker to fall back on.
    const broken = path.join(dir, 'broken.wasm');
    await fs.writeFile(broken, new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 0xff, 0xff]));
    const result = await warmUp(deps(path.join(dir, 'broken'), { probeFile: broken }));
    assert.equal(result, { warmed: false, reason: 'the inline engine cannot link the probe' });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a warmed-up node shows no trace of the probe, and serves its own functions', async () => {
  const n = await startTestNode();
  try {
    const admin = { authorization: `Bearer ${TOKEN}` };
    assert.equal(await (await fetch(`${n.url}/functions`, { headers: admin })).json(), { functions: [] });
    const keygroups = (await (await fetch(`${n.url}/keygroups`, { headers: admin })).json()) as { keygroups: Array<{ name: string }> };
    assert.not.ok(keygroups.keygroups.some((k) => k.name === 'warmup'));
    const metrics = await (await fetch(`${n.url}/metrics`)).text();
    assert.not.match(metrics, 'warmup');
    assert.match(metrics, /^enoki_functions 0$/m);
    assert.is((await n.call('warmup')).status, 404);
    assert.is((await n.deploy('hello', await guest('hello'))).status, 201);
    const reply = await n.call('hello');
    assert.is(reply.status, 200);
    assert.is(await reply.text(), 'hello from wat\n');
    if (hasJspi) assert.ok((await fs.readdir(path.join(n.dataDir, 'warm-up', 'components'))).length === 1, 'the warm-up ran');
  } finally {
    await n.close();
  }
});

test("a restarted node runs a wasi:http JS function's engine once before it listens, as it does Enoki's world's", async () => {
  if (!hasJspi) return; // Engines are warmed on the event loop only.
  const n = await startTestNode();
  try {
    assert.is((await n.deploy('proxy', await guest('worlds/http-echo.wasm'))).status, 201);
    await n.restart();
    const metrics = await (await fetch(`${n.url}/metrics`)).text();
    assert.match(metrics, /^enoki_engines_warmed 1$/m);
    // Its guest answered a request of no content with its output dropped: nothing of it shows.
    const logs = (await (await fetch(`${n.url}/functions/proxy/logs`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { invocations: unknown[] };
    assert.equal(logs.invocations, []);
    const reply = await n.call('proxy', { path: '/echo', method: 'POST', body: 'x' });
    assert.is(reply.status, 200);
    assert.is(((await reply.json()) as { body: string }).body, 'x');
  } finally {
    await n.close();
  }
});

test('the probe is built', async () => {
  // `npm run build` builds it (runtime/cli/build-if-stale.mjs): a node without it starts cold.
  const bytes = await fs.readFile(PROBE_FILE);
  assert.ok(bytes.length > 0);
});

test.run();
