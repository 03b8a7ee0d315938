// Debian's Chromium for the console's browser tests: /usr/bin/chromium, installed with apt-get
// when missing and this process is root (never a browser download of Playwright's own), driven
// by playwright-core. Where it cannot be had, the reason, so that the test can print it and skip.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

const INSTALL_TIMEOUT_MS = 15 * 60_000;

function present(): boolean {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let verdict: { ok: true; executablePath: string } | { ok: false; reason: string } | undefined;

/** Chromium's path, installing Debian's package first where possible; else why not. */
export function ensureChromium(): { ok: true; executablePath: string } | { ok: false; reason: string } {
  verdict ??= find();
  return verdict;
}

function find(): { ok: true; executablePath: string } | { ok: false; reason: string } {
  if (present()) return { ok: true, executablePath: CHROMIUM };
  if (process.platform !== 'linux') return { ok: false, reason: `${CHROMIUM} is Debian's package; this is ${process.platform}` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, reason: `${CHROMIUM} is missing and this process is not root, so it cannot install it (apt-get install chromium)` };
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for, rather than fail on, a dpkg lock held by another installer on the machine.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  for (const args of [
    [...lock, 'update'],
    [...lock, 'install', '-y', '--no-install-recommends', 'chromium'],
  ]) {
    process.stdout.write(`installing Debian's chromium for the browser tests: apt-get ${args.slice(2).join(' ')}\n`);
    const res = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    if (res.error?.message.includes('ENOENT')) return { ok: false, reason: `${CHROMIUM} is missing and there is no apt-get to install it` };
    if (res.error || res.status !== 0) {
      // apt exists and we are root: a failing install is a problem to see, not a reason to skip.
      throw new Error(`apt-get ${args.slice(2).join(' ')} failed (${res.error?.message ?? `exit code ${res.status}`}):\n${(res.stderr ?? '').slice(-2000)}`);
    }
  }
  if (!present()) throw new Error(`Debian's chromium was installed but ${CHROMIUM} is not there`);
  return { ok: true, executablePath: CHROMIUM };
}
