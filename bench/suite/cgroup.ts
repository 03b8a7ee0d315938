// The Pi-class profile's resource limits: each node the profile starts runs in a cgroup of its
// own with a memory limit (512 MiB) and a CPU quota (one core), so that the bench reports what the
// node does on a device of that class: its peak memory, whether the kernel had to reclaim or kill,
// and how often the quota throttled it.
//
// cgroup v1 (the `memory` and `cpu` controllers mounted and writable, as root): a child cgroup of
// this process's own is made per node, with memory.limit_in_bytes (and memory.memsw, so that swap
// cannot stand in for memory) and cpu.cfs_quota_us / cpu.cfs_period_us. The node is born in it:
// the bench moves itself into the cgroup, spawns the node (a child starts in its parent's cgroup),
// and moves itself back, all in one synchronous step, so every page the node allocates from its
// first instruction is charged to its cgroup (v1 cannot move charges made before a join: this
// kernel refuses memory.move_charge_at_immigrate). Pages of files another process read first, such
// as the Node binary's, stay charged where they were: the cgroup's peak counts the node's own
// memory and the page cache it brought in. The bench checks that the node is in its cgroup before
// measuring anything.
//
// Otherwise the profile can still run inside limits made outside (systemd-run --scope -p
// MemoryMax=512M -p CPUQuota=100% on a device, or a container's limits): the bench reads its own
// cgroup's limits (v2 or v1) and reports against them, saying that everything it runs shares them.
// Without either it refuses to run the profile rather than run it unlimited.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface LimitProfile {
  memoryBytes: number;
  cpuCores: number;
}

/** The Pi class: 512 MiB and one core for the node. */
export const PI_PROFILE: LimitProfile = { memoryBytes: 512 * 2 ** 20, cpuCores: 1 };

/** Handed to a script that starts nodes (the paper experiments): `cgroup.procs` files, joined by ':', its nodes start in. */
export const NODES_VARIABLE = 'BENCH_NODES_CGROUP_PROCS';
const PERIOD_US = 100_000;

/** What one limited process (or the enclosing cgroup) went through. */
export interface CgroupUsage {
  label: string;
  memoryLimitMiB: number;
  cpuCores: number;
  /** Highest memory use of the cgroup (RSS and page cache), MiB. */
  peakMiB?: number;
  /** Times the memory limit was hit (the kernel reclaimed page cache or, failing that, killed). */
  limitHits?: number;
  oomKills?: number;
  /** CFS periods in which the quota stopped the cgroup, of all periods it ran in. */
  throttledPeriods?: number;
  periods?: number;
  throttledMs?: number;
}

export class CgroupsUnavailable extends Error {}

const MiB = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `key value` lines (memory.stat, cpu.stat, memory.oom_control, memory.events). */
function keyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

/** Mount points of the cgroup v1 hierarchies by controller, and of cgroup v2. */
function mounts(): { v1: Map<string, string>; v2?: string } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of (readText('/proc/mounts') ?? '').split('\n')) {
    const [, dir, type, options] = line.split(' ');
    if (type === 'cgroup') for (const option of options.split(',')) v1.set(option, dir);
    if (type === 'cgroup2') v2 ??= dir;
  }
  return { v1, v2 };
}

/** This process's cgroup path per v1 controller, and its v2 path ('' key). */
function ownPaths(): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of (readText('/proc/self/cgroup') ?? '').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const controller of m[1] === '' ? [''] : m[1].split(',')) paths.set(controller, m[2]);
  }
  return paths;
}

/** One process's own v1 memory and cpu cgroups, made for it and removed after it. */
export class NodeCgroup {
  private constructor(
    readonly label: string,
    private readonly memoryDir: string,
    private readonly cpuDir: string,
    private readonly profile: LimitProfile,
  ) {}

  static async create(label: string, memoryParent: string, cpuParent: string, profile: LimitProfile, name: string): Promise<NodeCgroup> {
    const memoryDir = path.join(memoryParent, name);
    const cpuDir = path.join(cpuParent, name);
    await fs.mkdir(memoryDir);
    await fs.mkdir(cpuDir);
    const cgroup = new NodeCgroup(label, memoryDir, cpuDir, profile);
    try {
      await fs.writeFile(path.join(memoryDir, 'memory.limit_in_bytes'), String(profile.memoryBytes));
      // Swap would let the node exceed the limit unnoticed; the file exists only with swap accounting.
      if (existsSync(path.join(memoryDir, 'memory.memsw.limit_in_bytes'))) {
        await fs.writeFile(path.join(memoryDir, 'memory.memsw.limit_in_bytes'), String(profile.memoryBytes));
      }
      await fs.writeFile(path.join(cpuDir, 'cpu.cfs_period_us'), String(PERIOD_US));
      await fs.writeFile(path.join(cpuDir, 'cpu.cfs_quota_us'), String(Math.round(profile.cpuCores * PERIOD_US)));
    } catch (err) {
      await cgroup.remove();
      throw err;
    }
    return cgroup;
  }

  /** The `cgroup.procs` files a process writes its pid into to join. */
  get procsFiles(): string[] {
    return [path.join(this.memoryDir, 'cgroup.procs'), path.join(this.cpuDir, 'cgroup.procs')];
  }

  /** Runs `spawn` (which must start its process synchronously) with this process inside the cgroup. */
  startInside<T>(spawn: () => T): T {
    return startInside(this.procsFiles, spawn);
  }

  /** Throws unless `pid` is in both cgroups: a node measured outside its limits would be a false figure. */
  verify(pid: number): void {
    verifyJoined(this.procsFiles, pid, this.label);
  }

  usage(): CgroupUsage {
    const read = (file: string) => Number(readText(path.join(this.memoryDir, file)) ?? NaN);
    const oom = keyed(readText(path.join(this.memoryDir, 'memory.oom_control')));
    const cpu = keyed(readText(path.join(this.cpuDir, 'cpu.stat')));
    return {
      label: this.label,
      memoryLimitMiB: MiB(this.profile.memoryBytes),
      cpuCores: this.profile.cpuCores,
      peakMiB: MiB(read('memory.max_usage_in_bytes')),
      limitHits: read('memory.failcnt'),
      oomKills: oom.oom_kill,
      throttledPeriods: cpu.nr_throttled,
      periods: cpu.nr_periods,
      throttledMs: cpu.throttled_time === undefined ? undefined : Math.round(cpu.throttled_time / 1e6),
    };
  }

  /** Removes both cgroups; their processes must have exited (rmdir fails on a cgroup in use). */
  async remove(): Promise<void> {
    for (const dir of [this.memoryDir, this.cpuDir]) {
      for (let attempt = 0; ; attempt++) {
        try {
          await fs.rmdir(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          // A process that just exited may still be listed for a moment.
          if (code !== 'EBUSY' || attempt >= 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  }
}

/**
 * Calls `spawn` while this process is in the cgroups of `procsFiles` (undefined: where it is), so
 * the process `spawn` starts (synchronously: child_process.spawn forks before it returns) is born
 * there; then moves this process back to its own cgroups. Nothing else runs in between: the move,
 * the fork and the move back are one synchronous step of this event loop.
 */
export function startInside<T>(procsFiles: string[] | undefined, spawn: () => T): T {
  if (!procsFiles || procsFiles.length === 0) return spawn();
  const { v1 } = mounts();
  const own = ownPaths();
  const back = procsFiles.map((file) => {
    for (const [controller, mount] of v1) {
      if (file.startsWith(mount + '/') && own.has(controller)) return path.join(mount, own.get(controller)!, 'cgroup.procs');
    }
    throw new Error(`${file} is not in a cgroup v1 hierarchy of this process`);
  });
  for (const file of procsFiles) writeFileSync(file, String(process.pid));
  try {
    return spawn();
  } finally {
    for (const file of back) writeFileSync(file, String(process.pid));
  }
}

/** For scripts that start nodes: the cgroups their caller asked their nodes to start in (NODES_VARIABLE). */
export function nodesCgroup(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  return env[NODES_VARIABLE] ? env[NODES_VARIABLE].split(':') : undefined;
}

export function verifyJoined(procsFiles: string[], pid: number, label: string): void {
  for (const file of procsFiles) {
    const pids = (readText(file) ?? '').split('\n').filter(Boolean).map(Number);
    if (!pids.includes(pid)) {
      throw new Error(`${label} (pid ${pid}) is not in ${path.dirname(file)}: it did not start in its cgroup, so its figures would not be under the profile's limits`);
    }
  }
}

/** Limits this process already runs under (systemd-run, a container): v2 first, then v1. */
export interface EnclosingLimits {
  where: string;
  memoryBytes: number;
  cpuCores: number;
  usage(label: string): CgroupUsage;
}

export function enclosingLimits(): EnclosingLimits | undefined {
  const { v1, v2 } = mounts();
  const own = ownPaths();
  if (v2 && own.has('')) {
    const dir = path.join(v2, own.get('')!);
    const memory = readText(path.join(dir, 'memory.max'))?.trim();
    const [quota, period] = (readText(path.join(dir, 'cpu.max')) ?? 'max').trim().split(/\s+/);
    if (memory && memory !== 'max' && quota !== 'max') {
      const memoryBytes = Number(memory);
      const cpuCores = Number(quota) / Number(period);
      return {
        where: dir,
        memoryBytes,
        cpuCores,
        usage: (label) => {
          const events = keyed(readText(path.join(dir, 'memory.events')));
          const cpu = keyed(readText(path.join(dir, 'cpu.stat')));
          const peak = readText(path.join(dir, 'memory.peak'));
          return {
            label,
            memoryLimitMiB: MiB(memoryBytes),
            cpuCores,
            peakMiB: peak === undefined ? undefined : MiB(Number(peak)),
            limitHits: events.max,
            oomKills: events.oom_kill,
            throttledPeriods: cpu.nr_throttled,
            periods: cpu.nr_periods,
            throttledMs: cpu.throttled_usec === undefined ? undefined : Math.round(cpu.throttled_usec / 1000),
          };
        },
      };
    }
  }
  const memoryMount = v1.get('memory');
  const cpuMount = v1.get('cpu');
  if (memoryMount && cpuMount && own.has('memory') && own.has('cpu')) {
    const memoryDir = path.join(memoryMount, own.get('memory')!);
    const cpuDir = path.join(cpuMount, own.get('cpu')!);
    const memoryBytes = Number(readText(path.join(memoryDir, 'memory.limit_in_bytes')));
    const quota = Number(readText(path.join(cpuDir, 'cpu.cfs_quota_us')));
    const period = Number(readText(path.join(cpuDir, 'cpu.cfs_period_us')));
    // An unlimited v1 memory cgroup reports a limit near 2^63.
    if (memoryBytes > 0 && memoryBytes < 2 ** 50 && quota > 0) {
      return {
        where: `${memoryDir} and ${cpuDir}`,
        memoryBytes,
        cpuCores: quota / period,
        usage: (label) => {
          const oom = keyed(readText(path.join(memoryDir, 'memory.oom_control')));
          const cpu = keyed(readText(path.join(cpuDir, 'cpu.stat')));
          return {
            label,
            memoryLimitMiB: MiB(memoryBytes),
            cpuCores: quota / period,
            peakMiB: MiB(Number(readText(path.join(memoryDir, 'memory.max_usage_in_bytes')))),
            limitHits: Number(readText(path.join(memoryDir, 'memory.failcnt'))),
            oomKills: oom.oom_kill,
            throttledPeriods: cpu.nr_throttled,
            periods: cpu.nr_periods,
            throttledMs: cpu.throttled_time === undefined ? undefined : Math.round(cpu.throttled_time / 1e6),
          };
        },
      };
    }
  }
  return undefined;
}

/**
 * Makes a cgroup per node under this process's own v1 memory and cpu cgroups. open() checks that
 * it can (mounted, writable) and throws CgroupsUnavailable with the reason otherwise.
 */
export class NodeCgroups {
  readonly used: CgroupUsage[] = [];
  #count = 0;

  private constructor(
    readonly profile: LimitProfile,
    private readonly memoryParent: string,
    private readonly cpuParent: string,
  ) {}

  static async open(profile: LimitProfile): Promise<NodeCgroups> {
    const { v1 } = mounts();
    const own = ownPaths();
    const memoryMount = v1.get('memory');
    const cpuMount = v1.get('cpu');
    if (!memoryMount || !cpuMount) {
      throw new CgroupsUnavailable(`cgroup v1 ${[!memoryMount && 'memory', !cpuMount && 'cpu'].filter(Boolean).join(' and ')} controller not mounted (see /proc/mounts)`);
    }
    const cgroups = new NodeCgroups(profile, path.join(memoryMount, own.get('memory') ?? '/'), path.join(cpuMount, own.get('cpu') ?? '/'));
    try {
      const probe = await cgroups.create('probe');
      await probe.remove();
    } catch (err) {
      throw new CgroupsUnavailable(`cannot make a cgroup under ${cgroups.memoryParent} and ${cgroups.cpuParent}: ${(err as Error).message} (root is needed)`);
    }
    cgroups.#count = 0;
    return cgroups;
  }

  create(label: string): Promise<NodeCgroup> {
    return NodeCgroup.create(label, this.memoryParent, this.cpuParent, this.profile, `enoki-bench-${process.pid}-${this.#count++}`);
  }

  /** Records a finished cgroup's usage and removes it. */
  async finish(cgroup: NodeCgroup): Promise<CgroupUsage> {
    const usage = cgroup.usage();
    this.used.push(usage);
    await cgroup.remove();
    return usage;
  }
}
