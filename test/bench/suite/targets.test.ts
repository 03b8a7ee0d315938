// The targets table of issue 11 (bench/suite/targets.ts): in the order, a scenario that
// did not run leaves its targets "not measured" (never met), a limit is inclusive, and each
// verdict names the Node that ran what it measured.
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { evaluateTargets, piVerdict, targetsTable } from '../../../bench/suite/targets.js';
import type { FreshCloneResult } from '../../../bench/suite/fresh-clone.js';

const test = suite('bench: targets');

const summary = (p50: number) => ({ n: 3, p50, p95: p50, p99: p50, mean: p50 });

function fresh(firstStartMs: number, restartMs: number): FreshCloneResult {
  return {
    commit: 'abc1234',
    node: 'v22.0.0',
    install: { ms: 40_000, summary: 'added 1 package' },
    firstStart: { totalMs: firstStartMs, marks: {}, guestsBuilt: 0, guestsCached: 0, fixturesBuilt: 0 },
    restartNpm: summary(restartMs),
    restartCli: summary(restartMs),
    restartNpmPhases: [],
    restartCliMs: [restartMs],
  };
}

test('nothing measured: every target of the issues is listed, none met', () => {
  const verdicts = evaluateTargets({}, 'v24.0.0');
  // Issue 11's 15 lines and issue 13's peers target.
  assert.is(verdicts.length, 16);
  assert.match(verdicts[0].target, /tiny guest ≥ 50 %/);
  assert.match(verdicts[verdicts.length - 2].target, /Restart/);
  assert.match(verdicts[verdicts.length - 1].target, /jco serve/);
  for (const v of verdicts) assert.is(v.met, undefined, v.target);
  assert.ok(targetsTable(verdicts).slice(1).every((row) => row[3] === 'not measured'));
});

test('a limit is met when reached exactly and missed just beyond it; the clone names its own Node', () => {
  const at = evaluateTargets({ fresh: fresh(20_000, 1000) }, 'v24.0.0').filter((v) => v.scenario === 'fresh');
  assert.equal(at.map((v) => v.met), [true, true, true]);
  assert.equal(at.map((v) => v.node), ['v22.0.0', 'v22.0.0', 'v24.0.0']);
  const beyond = evaluateTargets({ fresh: fresh(20_001, 1001) }, 'v24.0.0').filter((v) => v.scenario === 'fresh');
  assert.equal(beyond.map((v) => v.met), [false, false, false]);
});

test('the Pi-class verdict fails on an OOM kill or a failed scenario, and is not measured when nothing ran', () => {
  const usage = { label: 'n', memoryLimitMiB: 512, cpuCores: 1, peakMiB: 300, oomKills: 0 };
  assert.is(piVerdict({}, [usage], ['memory'], []).met, true);
  assert.is(piVerdict({}, [{ ...usage, oomKills: 1 }], ['memory'], []).met, false);
  assert.is(piVerdict({}, [usage], ['memory', 'examples'], ['examples']).met, false);
  assert.is(piVerdict({}, [], [], []).met, undefined);
});

test.run();
