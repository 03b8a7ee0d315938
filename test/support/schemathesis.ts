// schemathesis (PyPI, pinned) for the API fuzz test: installed into a cached virtualenv on first
// use, or the reason it cannot be.

import path from 'node:path';
import { loadToolConfig } from '../../runtime/config.js';
import { ensureVenv } from './python-venv.js';

export const SCHEMATHESIS_VERSION = '4.32.5';

export type Schemathesis = { ok: true; command: string; python: string } | { ok: false; reason: string };

export async function ensureSchemathesis(log?: (line: string) => void): Promise<Schemathesis> {
  const venv = await ensureVenv(
    loadToolConfig(),
    { name: `schemathesis-${SCHEMATHESIS_VERSION}`, pins: [`schemathesis==${SCHEMATHESIS_VERSION}`], check: 'import schemathesis' },
    log,
  );
  return venv.ok ? { ok: true, command: path.join(venv.bin, 'schemathesis'), python: venv.python } : venv;
}
