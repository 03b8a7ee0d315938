// The Python guest toolchain: componentize-py from PyPI, pinned, installed into a
// virtualenv under the tool cache the first time a Python guest is built (or by `enoki setup
// python`). Nothing is installed into the user's own Python.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ToolConfig } from '../config.js';
import { GuestBuildError } from './guest-build-error.js';
import { runTool, ToolNotFound } from './run-tool.js';

/**
 * The pinned packages: componentize-py builds the component. Changing a pin installs a fresh
 * toolchain beside the old one and rebuilds every Python guest.
 */
export const PYTHON_TOOL_PINS = { 'componentize-py': '0.25.1' } as const;

/** Python versions componentize-py 0.25 runs on. */
const MIN_PYTHON: [number, number] = [3, 10];

export interface PythonTools {
  /** The toolchain's virtualenv. */
  dir: string;
  /** Its interpreter, which runs componentize-py as a module. */
  python: string;
  /** `componentize-py 0.25.1`: part of every Python build's cache key. */
  label: string;
  /** The environment the tools run in. */
  env: NodeJS.ProcessEnv;
}

const LABEL = Object.entries(PYTHON_TOOL_PINS)
  .map(([name, version]) => `${name} ${version}`)
  .join(', ');
const MARKER = 'enoki-tools.json';

export function pythonToolsDir(config: ToolConfig): string {
  const name = Object.entries(PYTHON_TOOL_PINS)
    .map(([pkg, version]) => `${pkg}-${version}`)
    .join('_');
  return path.join(config.cacheDir, 'python-tools', name);
}

/** The command that installs the toolchain, for messages. */
export const SETUP_COMMAND = 'npx enoki setup python';

/** The installed toolchain, or undefined when it is not (completely) installed. */
export async function findPythonTools(config: ToolConfig): Promise<PythonTools | undefined> {
  const dir = pythonToolsDir(config);
  const python = path.join(dir, 'bin', 'python');
  try {
    await fs.access(path.join(dir, MARKER));
    await fs.access(python);
  } catch {
    return undefined;
  }
  // An install made before its scripts were pointed at their final folder (see below).
  await pointScriptsAt(dir, dir).catch(() => undefined);
  return { dir, python, label: LABEL, env: config.env };
}

/**
 * The names of the temporary folders an install of `dir` is made in before it is renamed to
 * `dir`: in a full path, and alone (venv's default prompt is the folder's name).
 */
const temporaryOf = (dir: string) => new RegExp(`${path.basename(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-\\d+-[0-9a-f]{8}`, 'g');

/**
 * venv and pip write the folder they install into in the virtualenv's scripts (`bin/componentize-py`'s
 * first line, `activate`) and in its `pyvenv.cfg`: the temporary folder, renamed to `dir` once the
 * install is complete. Rewritten to `dir`, so that the scripts run there (Enoki itself runs
 * `bin/python`, which needs no rewriting; a user running `bin/componentize-py` or activating the
 * virtualenv by hand does).
 */
async function pointScriptsAt(venv: string, dir: string): Promise<void> {
  const bin = path.join(venv, 'bin');
  const temporary = temporaryOf(dir);
  const files = [...(await fs.readdir(bin)).map((name) => path.join(bin, name)), path.join(venv, 'pyvenv.cfg')];
  for (const file of files) {
    const stat = await fs.lstat(file).catch(() => undefined);
    if (!stat?.isFile() || stat.size > 64 * 1024) continue;
    const text = await fs.readFile(file, 'utf8');
    temporary.lastIndex = 0;
    if (temporary.test(text)) await fs.writeFile(file, text.replace(temporary, path.basename(dir)));
  }
}

let installing: Promise<PythonTools> | undefined;

/**
 * The toolchain, installed first if needed (from PyPI, under a minute on a good link).
 * `onInstall` hears once that an install starts. `forFile` names the source in errors.
 */
export async function ensurePythonTools(config: ToolConfig, options: { onInstall?: (message: string) => void; forFile?: string } = {}): Promise<PythonTools> {
  const found = await findPythonTools(config);
  if (found) return found;
  // One install per process; concurrent processes each install into their own temporary folder
  // and the first rename wins.
  installing ??= install(config, options).finally(() => {
    installing = undefined;
  });
  return installing;
}

async function install(config: ToolConfig, options: { onInstall?: (message: string) => void; forFile?: string }): Promise<PythonTools> {
  const file = options.forFile ?? 'python toolchain';
  const fail = (message: string): never => {
    throw new GuestBuildError(file, message);
  };
  await checkPython(config, fail);
  const dir = pythonToolsDir(config);
  options.onInstall?.(`installing ${LABEL} from PyPI into ${dir} (first Python build only)`);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const venv = await runTool(config.python, ['-m', 'venv', '--prompt', path.basename(dir), tmp], { env: config.env, timeoutMs: 120_000 });
    if (venv.code !== 0) {
      fail(
        `\`${config.python} -m venv\` failed (on Debian and Ubuntu the venv module is the package python3-venv: ` +
          `apt-get install python3-venv), then run \`${SETUP_COMMAND}\`:\n${tail(venv.output)}`,
      );
    }
    const python = path.join(tmp, 'bin', 'python');
    const pins = Object.entries(PYTHON_TOOL_PINS).map(([name, version]) => `${name}==${version}`);
    const pip = await runTool(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', ...pins], {
      env: config.env,
      timeoutMs: 15 * 60_000,
    });
    if (pip.code !== 0) {
      fail(
        `installing ${pins.join(' ')} with pip failed${pip.timedOut ? ' (timed out after 15 min)' : ''}; ` +
          `check that PyPI is reachable, then run \`${SETUP_COMMAND}\`:\n${tail(pip.output)}`,
      );
    }
    const check = await runTool(python, ['-c', 'import componentize_py'], {
      env: config.env,
      timeoutMs: 60_000,
    });
    if (check.code !== 0) fail(`the installed toolchain does not load:\n${tail(check.output)}`);
    await pointScriptsAt(tmp, dir);
    await fs.writeFile(path.join(tmp, MARKER), JSON.stringify({ pins: PYTHON_TOOL_PINS, installedAt: new Date().toISOString() }) + '\n');
    try {
      await fs.rename(tmp, dir);
    } catch (err) {
      // Another process finished first (the target exists and is not empty): use its install.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  const tools = await findPythonTools(config);
  return tools ?? fail(`the toolchain is not usable after installing it into ${dir}`);
}

/** Python exists, is recent enough, and has venv and pip; otherwise a message with the fix. */
async function checkPython(config: ToolConfig, fail: (message: string) => never): Promise<void> {
  const { python } = config;
  const probe = 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])';
  const howTo =
    `Python ${MIN_PYTHON.join('.')} or later with venv and pip is needed to build Python guests: install it ` +
    `(e.g. \`apt-get install python3 python3-venv python3-pip\`) or point ENOKI_PYTHON at one, then run \`${SETUP_COMMAND}\``;
  let run;
  try {
    run = await runTool(python, ['-c', probe], { env: config.env, timeoutMs: 60_000 });
  } catch (err) {
    if (err instanceof ToolNotFound) fail(`\`${python}\` was not found. ${howTo}`);
    throw err;
  }
  if (run.code !== 0) fail(`\`${python}\` cannot create virtualenvs (${lastLine(run.output)}). ${howTo}`);
  const [major, minor] = run.stdout.trim().split('.').map(Number);
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    fail(`\`${python}\` is Python ${major}.${minor}. ${howTo}`);
  }
}

function tail(output: string, lines = 30): string {
  return output.trim().split('\n').slice(-lines).join('\n');
}

function lastLine(output: string): string {
  return output.trim().split('\n').pop() ?? 'no output';
}
