// Test tools from PyPI (schemathesis), pinned, installed once into a virtualenv of their own
// under the tool cache — the same cache and the same way the Python guest toolchain is installed
// (runtime/build/python-tools.ts) — never into the user's Python. Where Python cannot make a
// virtualenv, the caller is told why, so that a test can say what it skipped and why.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ToolConfig } from '../../runtime/config.js';
import { runTool, ToolNotFound } from '../../runtime/build/run-tool.js';

export interface VenvSpec {
  /** Folder name under <cache>/test-tools; include the pins so that a new pin installs afresh. */
  name: string;
  /** `package==version` requirements. */
  pins: string[];
  /** A Python statement that must run once installed (imports the tool). */
  check: string;
}

export type Venv = { ok: true; python: string; bin: string } | { ok: false; reason: string };

const MARKER = 'enoki-test-tool.json';
const tail = (text: string) => text.trim().split('\n').slice(-20).join('\n');

/** The virtualenv, installed first when missing; `{ ok: false, reason }` where that cannot be done. */
export async function ensureVenv(config: ToolConfig, spec: VenvSpec, log: (line: string) => void = () => undefined): Promise<Venv> {
  const dir = path.join(config.cacheDir, 'test-tools', spec.name);
  const found = { ok: true as const, python: path.join(dir, 'bin', 'python'), bin: path.join(dir, 'bin') };
  try {
    await fs.access(path.join(dir, MARKER));
    return found;
  } catch {
    // not installed yet
  }
  let probe;
  try {
    probe = await runTool(config.python, ['-c', 'import sys, venv, ensurepip; assert sys.version_info >= (3, 10), sys.version'], { env: config.env, timeoutMs: 60_000 });
  } catch (err) {
    if (err instanceof ToolNotFound) return { ok: false, reason: `${config.python} cannot be run (${err.reason}); set ENOKI_PYTHON to a Python 3.10+ with venv` };
    throw err;
  }
  if (probe.code !== 0) return { ok: false, reason: `${config.python} is not a Python 3.10+ with venv and pip: ${tail(probe.output)}` };

  log(`installing ${spec.pins.join(' ')} from PyPI into ${dir} (once)`);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const venv = await runTool(config.python, ['-m', 'venv', tmp], { env: config.env, timeoutMs: 120_000 });
    if (venv.code !== 0) return { ok: false, reason: `python -m venv failed: ${tail(venv.output)}` };
    const python = path.join(tmp, 'bin', 'python');
    const pip = await runTool(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', ...spec.pins], {
      env: config.env,
      timeoutMs: 15 * 60_000,
    });
    // A failed install from a reachable registry is a real problem: say so loudly.
    if (pip.code !== 0) throw new Error(`pip install ${spec.pins.join(' ')} failed${pip.timedOut ? ' (timed out)' : ''}:\n${tail(pip.output)}`);
    const check = await runTool(python, ['-c', spec.check], { env: config.env, timeoutMs: 60_000 });
    if (check.code !== 0) throw new Error(`${spec.pins.join(' ')} installed but does not load:\n${tail(check.output)}`);
    await fs.writeFile(path.join(tmp, MARKER), JSON.stringify({ pins: spec.pins, installedAt: new Date().toISOString() }) + '\n');
    try {
      await fs.rename(tmp, dir);
    } catch (err) {
      // Another process installed it first: use that one.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return found;
}
