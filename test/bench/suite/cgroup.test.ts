// The Pi-class profile's cgroups (bench/suite/cgroup.ts): a process started inside one is in it
// from its start, is killed by the kernel past the memory limit and the usage says so, one within
// the limit is not; and the bench process itself is back in its own cgroups afterwards. Needs root
// and the cgroup v1 memory and cpu controllers; without them the profile refuses to run, and these
// tests are skipped (with that reason printed).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { CgroupsUnavailable, NodeCgroups, startInside } from '../../../bench/suite/cgroup.js';

const test = suite('bench: Pi-class profile cgroups');
const LIMIT = 64 * 2 ** 20;

let cgroups: NodeCgroups | undefined;
let unavailable = '';
try {
  cgroups = await NodeCgroups.open({ memoryBytes: LIMIT, cpuCores: 1 });
} catch (err) {
  if (!(err instanceof CgroupsUnavailable)) throw err;
  unavailable = err.message;
  process.stderr.write(`bench cgroup tests skipped: ${unavailable}\n`);
}
const maybe = cgroups ? test : test.skip;

/** A Node child that waits for a line on stdin, then holds `mib` MiB of touched memory and exits. */
function allocator(mib: number): ChildProcess {
  const script = `process.stdin.once('data', () => { const keep = []; for (let i = 0; i < ${mib}; i++) keep.push(Buffer.alloc(2 ** 20, 1)); process.exit(0); }); process.stdout.write('ready\\n');`;
  return spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'ignore'] });
}

async function ready(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
}

function exit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

const ownCgroups = () => readFileSync('/proc/self/cgroup', 'utf8');

maybe('a process started inside is in the cgroup, and past its memory limit the kernel kills it', async () => {
  const before = ownCgroups();
  const cgroup = await cgroups!.create('test: allocates 200 MiB');
  const child = cgroup.startInside(() => allocator(200));
  assert.is(ownCgroups(), before, 'the bench process is back in its own cgroups');
  const exited = exit(child);
  await ready(child);
  cgroup.verify(child.pid!);
  child.stdin!.write('go\n');
  const { signal } = await exited;
  assert.is(signal, 'SIGKILL');
  const usage = await cgroups!.finish(cgroup);
  assert.ok((usage.oomKills ?? 0) >= 1, `OOM kills: ${usage.oomKills}`);
  assert.ok(usage.peakMiB! <= LIMIT / 2 ** 20, `peak ${usage.peakMiB} MiB`);
});

maybe('a process within its limit runs to its end and no OOM kill is reported', async () => {
  const cgroup = await cgroups!.create('test: allocates 16 MiB');
  const child = cgroup.startInside(() => allocator(16));
  const exited = exit(child);
  await ready(child);
  cgroup.verify(child.pid!);
  child.stdin!.write('go\n');
  assert.equal(await exited, { code: 0, signal: null });
  const usage = await cgroups!.finish(cgroup);
  assert.is(usage.oomKills ?? 0, 0);
  assert.ok(usage.peakMiB! >= 16, `peak ${usage.peakMiB} MiB counts the child's 16 MiB`);
});

maybe('a process not started inside fails the check', async () => {
  const cgroup = await cgroups!.create('test: outside');
  const child = startInside(undefined, () => allocator(1));
  const exited = exit(child);
  await ready(child);
  try {
    assert.throws(() => cgroup.verify(child.pid!), /did not start in its cgroup/);
  } finally {
    child.stdin!.write('go\n');
    await exited;
    await cgroups!.finish(cgroup);
  }
});

test.run();
