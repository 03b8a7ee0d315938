// Builds a Python guest into a component with componentize-py (CPython inside, ~18 MB), as it
// comes: a node provides every import it has, wasi:sockets included (a network that refuses).

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadToolConfig, type ToolConfig } from '../config.js';
import { writeOutput } from './build-cache.js';
import { GuestBuildError } from './guest-build-error.js';
import { ensurePythonTools, type PythonTools } from './python-tools.js';
import { runTool } from './run-tool.js';

export interface PythonGuestOptions {
  /** The guest's module, e.g. `app.py`: its folder is the guest's Python path. */
  source: string;
  /** The WIT folder (or a single .wit file) to build against. */
  witDir: string;
  world?: string;
  /** Also write the component to this path. */
  out?: string;
  /** Where the toolchain is (defaults from the environment, see runtime/config.ts). */
  tools?: ToolConfig;
  /** Hears once that the toolchain is being installed (the first Python build on a machine). */
  onInstall?: (message: string) => void;
}

/** Folders never part of a guest's sources: caches, virtualenvs, build outputs. */
const SKIPPED_DIRS = new Set(['__pycache__', 'node_modules', 'build', 'venv', 'dist']);
const MAX_SOURCES = 2000;

/**
 * The `.py` files of the guest's folder and below, by relative path: what componentize-py can
 * import, and so what the build cache keys on. The build runs on a copy of exactly these, so
 * the user's folder gets no `__pycache__` and a file outside this set cannot change the output.
 */
export async function pythonSources(source: string): Promise<Map<string, string>> {
  const root = path.dirname(path.resolve(source));
  const files = new Map<string, string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(path.join(dir, entry.name), name);
      } else if (entry.isFile() && entry.name.endsWith('.py')) {
        if (files.size >= MAX_SOURCES) throw new GuestBuildError(source, `more than ${MAX_SOURCES} .py files below ${root}: give the guest a folder of its own`);
        files.set(name, await fs.readFile(path.join(dir, entry.name), 'utf8'));
      }
    }
  };
  try {
    await fs.access(source);
  } catch {
    throw new GuestBuildError(source, 'no such file');
  }
  await walk(root, '');
  return files;
}

/** Builds a Python guest; ~30 s, plus the toolchain's install the first time. */
export async function buildPythonGuest(options: PythonGuestOptions): Promise<Uint8Array> {
  const { source, witDir, world = 'function', out } = options;
  const module = path.basename(source, '.py');
  if (!source.endsWith('.py') || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(module)) {
    throw new GuestBuildError(source, 'a Python guest is a module file whose name is a Python identifier, e.g. app.py');
  }
  // componentize-py generates a module named after the world (and `wit_world`): a guest module
  // of the same name would shadow it.
  if (module === world.replaceAll('-', '_') || module === 'wit_world') {
    throw new GuestBuildError(source, `the module name "${module}" clashes with the bindings componentize-py generates; rename the file (e.g. ${module === 'app' ? 'main' : 'app'}.py)`);
  }
  const sources = await pythonSources(source);
  if ((sources.get(`${module}.py`) ?? '').trim() === '') throw new GuestBuildError(source, 'the source is empty');
  const tools = await ensurePythonTools(options.tools ?? loadToolConfig(), { onInstall: options.onInstall, forFile: source });

  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-py-'));
  try {
    const app = path.join(work, 'app');
    for (const [name, text] of sources) {
      await fs.mkdir(path.dirname(path.join(app, name)), { recursive: true });
      await fs.writeFile(path.join(app, name), text);
    }
    const component = path.join(work, 'component.wasm');
    await componentize(tools, { source, module, app, witDir: path.resolve(witDir), world, output: component });
    const bytes = new Uint8Array(await fs.readFile(component));
    if (out) await writeOutput(out, bytes);
    return bytes;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function componentize(
  tools: PythonTools,
  job: { source: string; module: string; app: string; witDir: string; world: string; output: string },
): Promise<void> {
  // componentize_py has no __main__; its console script calls script(), which reads sys.argv.
  const launcher = "import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())";
  const args = ['-c', launcher, '-d', job.witDir, '-w', job.world, 'componentize', job.module, '-p', job.app, '-o', job.output];
  // Without a backtrace setting, anyhow appends a Rust stack trace to every error.
  const env: NodeJS.ProcessEnv = { ...tools.env, RUST_BACKTRACE: '0', RUST_LIB_BACKTRACE: '0', PYTHONDONTWRITEBYTECODE: '1' };
  delete env.VIRTUAL_ENV; // its site-packages would join the guest's Python path
  const run = await runTool(tools.python, args, { cwd: job.app, env, timeoutMs: 10 * 60_000 });
  if (run.code === 0) return;
  if (run.timedOut) throw new GuestBuildError(job.source, 'componentize-py did not finish within 10 minutes');
  throw new GuestBuildError(job.source, `componentize-py failed:\n${explain(run.output, job)}`);
}

/**
 * componentize-py reports through a Python traceback around an AssertionError holding the real
 * message; this keeps the message, with the guest's paths as the user knows them.
 */
function explain(output: string, job: { source: string; module: string; world: string }): string {
  let text = output.replace(/\r/g, '');
  const assertion = text.indexOf('AssertionError: ');
  if (assertion >= 0) text = text.slice(assertion + 'AssertionError: '.length);
  text = text.replace(/\n*Stack backtrace:[\s\S]*$/, '');
  // anyhow repeats the cause of a Python error after the traceback.
  const cause = text.indexOf('\n\nCaused by:');
  if (cause > 0) text = text.slice(0, cause);
  // Inside the build the guest's folder is mounted at /0.
  text = text.replaceAll('"/0/', `"${path.dirname(job.source)}/`).trim();
  if (/has no attribute 'Handler'/.test(text)) {
    text += `\n(for world \`${job.world}\` the module must define the class of each exported interface, e.g. \`class Handler(exports.Handler)\`)`;
  }
  return text;
}
