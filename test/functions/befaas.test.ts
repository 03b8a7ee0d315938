// The BeFaaS IoT application on one node: the 8 functions deployed side by side, driven through
// their chains of calls as the experiment's load generator drives them; asserts on the answers
// and on the state each function leaves in its keygroup.
import path from 'node:path';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { LevelReplicaStore } from '../../replication/store/level-store.js';
import { guest, startTestNode, type TestNode } from '../helpers/test-node.js';

const FUNCTIONS = [
  'emergencydetection',
  'lightphasecalculation',
  'movementplan',
  'objectrecognition',
  'roadcondition',
  'trafficsensorfilter',
  'trafficstatistics',
  'weathersensorfilter',
];

const test = suite('functions: befaas-iot on one node');
let t: TestNode;

test.before(async () => {
  t = await startTestNode({ nodeId: 'befaas' });
  for (const fn of FUNCTIONS) {
    const res = await t.deploy(fn, await guest(fn), `?keygroup=${fn}`);
    assert.is(res.status, 201, `deploy ${fn}: ${await res.text()}`);
  }
});
test.after(async () => {
  await t?.close();
});

interface Answer {
  status: number;
  ctx: { data: Record<string, unknown>; xpair: string; xcontext: string } | undefined;
  text: string;
}

async function send(fn: string, data: unknown): Promise<Answer> {
  const res = await t.call(fn, { method: 'POST', body: JSON.stringify({ data, xpair: `pair-${fn}`, xcontext: 'ctx-1' }) });
  const text = await res.text();
  let ctx;
  try {
    ctx = JSON.parse(text);
  } catch {
    ctx = undefined;
  }
  return { status: res.status, ctx, text };
}

/** Successful invocations of `fn` so far (its calls arrive asynchronously too). */
async function invocations(fn: string): Promise<number> {
  const res = await t.admin('GET', `/functions/${fn}/logs`);
  const { invocations: list } = (await res.json()) as { invocations: Array<{ status: number }> };
  return list.filter((i) => i.status === 200).length;
}

async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A base64 "image" whose byte at offset 54 (what objectrecognition looks at) is `at54`. */
function image(at54: number): string {
  const bytes = Buffer.alloc(200, 7);
  bytes[54] = at54;
  return bytes.toString('base64');
}

/** Every item of each keygroup, JSON-parsed, read from the node's replica after it stopped. */
async function keygroups(): Promise<Record<string, Record<string, unknown>>> {
  await t.node.close();
  const store = new LevelReplicaStore({ location: path.join(t.dataDir, 'replica'), nodeId: 'befaas' });
  await store.open();
  const out: Record<string, Record<string, unknown>> = {};
  try {
    for (const fn of FUNCTIONS) {
      out[fn] = {};
      for (const { id, siblings } of await store.scan(fn, { start: '', count: 1000 })) out[fn][id] = JSON.parse(siblings[0].value);
    }
  } finally {
    await store.close();
  }
  await t.restart();
  return out;
}

test('the camera chain: objects answered, statistics stored, the ambulance makes the lights blink', async () => {
  const res = await send('objectrecognition', { image: image(14) });
  assert.is(res.status, 200, res.text);
  assert.is(res.ctx!.xcontext, 'ctx-1', 'the context travels back');
  assert.is(res.ctx!.xpair, 'pair-objectrecognition');
  const objects = res.ctx!.data.objects as Array<{ type: string }>;
  assert.equal(objects[objects.length - 1], { type: 'ambulance', positionx: 55, positiony: 135, boundx: 114, boundy: 175 });

  // trafficstatistics and lightphasecalculation run asynchronously (lightphasecalculation twice:
  // from emergencydetection and from movementplan).
  await until('the asynchronous calls', async () => (await invocations('trafficstatistics')) >= 1 && (await invocations('lightphasecalculation')) >= 2);
  const lights = await send('lightphasecalculation', {});
  assert.equal(lights.ctx!.data, { lights: ['yellow'], blink: true });

  const state = await keygroups();
  const counts: Record<string, number> = {};
  for (const o of objects) counts[o.type] = (counts[o.type] ?? 0) + 1;
  assert.equal(Object.values(state.trafficstatistics), [counts]);
  assert.match(Object.keys(state.trafficstatistics)[0], /^trafficstatistics\d{10}$/);
  assert.is(state.lightphasecalculation.lightcalculationemergency, true);
  assert.is(state.lightphasecalculation.lightcalculationemergencytype, 'ambulance');
  assert.is(state.lightphasecalculation.lightcalculationlock, false, 'unlocked again');
  assert.equal(state.movementplan.movementplancars, { cars: [] });
});

// The tests run in order on one node: the first leaves an emergency recorded, so the lights
// never wait (2–4 s) in the later ones, as in the experiment after its first camera image.
test('the traffic sensor chain: plausible cars go to the front of the movement plan, equal ones once', async () => {
  const lightCalls = await invocations('lightphasecalculation');
  const car = (plate: string, speed: number) => ({ carDirection: { plate, direction: 4, speed } });
  for (const data of [car('OD DI 98231', 10), car('AB CD 1', 20), car('OD DI 98231', 10), car('AB CD 2', 800), car('bad plate', 10)]) {
    const res = await send('trafficsensorfilter', data);
    assert.is(res.status, 200, res.text);
    assert.equal(res.ctx!.data, {});
  }
  // Three plausible readings: three plans sent on asynchronously.
  await until('the plans', async () => (await invocations('lightphasecalculation')) >= lightCalls + 3);
  const state = await keygroups();
  assert.equal(state.movementplan.movementplancars, {
    // The repeated reading went to the front; its older copy was dropped.
    cars: [
      { plate: 'OD DI 98231', direction: 4, speed: 10 },
      { plate: 'AB CD 1', direction: 4, speed: 20 },
    ],
  });
  // The three plans went on asynchronously and may run at once (inline, a waiting call lets
  // others run) and finish in any order: the last committed is one of the plans sent, the first
  // (one car) or a later one (both), each complete.
  const plates = [...(state.lightphasecalculation.lightcalculationplates as string[])].sort();
  assert.ok(
    [['OD DI 98231'], ['AB CD 1', 'OD DI 98231']].some((sent) => JSON.stringify(sent) === JSON.stringify(plates)),
    `the plan reached the lights: ${JSON.stringify(plates)}`,
  );
});

test('the weather chain: only rain reaches roadcondition, whose rating the lights keep', async () => {
  const before = await invocations('roadcondition');
  const dry = await send('weathersensorfilter', { temperature: 10.0, humidity: 50.0, wind: 5.0, rain: false });
  assert.equal([dry.status, dry.ctx!.data], [200, {}]);
  // Kept from the original: 0 °C is falsy, so "invalid".
  const freezing = await send('weathersensorfilter', { temperature: 0, humidity: 50.0, wind: 5.0, rain: true });
  assert.equal(freezing.ctx!.data, { error: 'Invalid temperature.' });
  const wet = await send('weathersensorfilter', { temperature: 2.0, humidity: 80.0, wind: 30.0, rain: true });
  assert.equal([wet.status, wet.ctx!.data], [200, {}]);
  await until('roadcondition', async () => (await invocations('roadcondition')) === before + 1);
  const state = await keygroups();
  assert.is(state.lightphasecalculation.lightcalculationcondition, 5, 'cold, humid, wind over Beaufort 10, rain');
});

test('a body that is no BeFaaS context, or a broken chain, is a 500', async () => {
  assert.is((await t.call('emergencydetection', { method: 'POST', body: 'not json' })).status, 500);
  assert.is((await send('trafficsensorfilter', {})).status, 500, 'no carDirection: the original raised TypeError');
  const wrong = await send('emergencydetection', { objects: 'none' });
  assert.equal([wrong.status, wrong.ctx!.data], [200, { error: 'Wrong payload.' }]);
  // A synchronous call to a function that is not there fails its caller.
  assert.is((await t.admin('DELETE', '/functions/movementplan')).status, 200);
  const res = await send('trafficsensorfilter', { carDirection: { plate: 'OD DI 1', direction: 1, speed: 1 } });
  assert.is(res.status, 500);
  assert.match(res.text, /error calling movementplan: not-found/);
});

test.run();
