// schemathesis (PyPI, pinned) for the API fuzz test: installed into a cached virtualenv on first
// use, or the reason it cannot be.

import { loadToolConfig } from '../../runtime/config.js';
import { ensureVenv } from './python-venv.js';

export const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * How to run it: the virtualenv's Python with these arguments first. Its `bin/schemathesis` script
 * is not used: the virtualenv is built in a temporary folder and renamed, and scripts keep the
 * interpreter path they were installed with.
 */
export type Schemathesis = { ok: true; python: string; args: string[] } | { ok: false; reason: string };

export async function ensureSchemathesis(log?: (line: string) => void): Promise<Schemathesis> {
  const venv = await ensureVenv(
    loadToolConfig(),
    { name: `schemathesis-${SCHEMATHESIS_VERSION}`, pins: [`schemathesis==${SCHEMATHESIS_VERSION}`], check: 'import schemathesis' },
    log,
  );
  return venv.ok ? { ok: true, python: venv.python, args: ['-c', 'import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())'] } : venv;
}
