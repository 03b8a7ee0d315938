// Deploys the example functions to a freshly started node. With `build`, the examples are built
// (functions/build.ts --report, in a child process: a JS build holds a core and ~100 MB for a
// while) as the node already serves, and each is deployed the moment it is ready, the ones the
// README calls first first: on a fresh machine `counter` answers long before the last example is
// built. An example whose active version already has the same bytes is not deployed again.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FunctionService } from '../functions/function-service.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../../functions/build', import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL('../../functions/build.js', import.meta.url));

export interface ExampleOptions {
  /** Build the examples first (skipping unchanged ones) instead of taking what is in `dir`. */
  build?: boolean;
  dir?: string;
  /** Hears each example once it is deployed (or already was). */
  onDeployed?: (name: string) => void;
  /** Progress of the build (its stderr). */
  onProgress?: (text: string) => void;
}

export async function deployExamples(functions: FunctionService, options: ExampleOptions = {}): Promise<string[]> {
  const deployed: string[] = [];
  const deploy = async (name: string, file: string) => {
    const current = functions.list().find((f) => f.name === name);
    const active = current?.versions.find((v) => v.id === current.active);
    // A restart finds every example deployed: hashing the file as a stream avoids holding its
    // 12 MB (and leaving the node's memory that much larger) just to learn that.
    if (active?.digest !== (await fileDigest(file))) await functions.deploy(name, await fs.readFile(file));
    deployed.push(name);
    options.onDeployed?.(name);
  };
  if (options.build) {
    await buildAndDeploy(deploy, options.onProgress);
    return deployed;
  }
  const dir = options.dir ?? EXAMPLES_DIR;
  let files: string[];
  try {
    files = (await fs.readdir(dir)).filter((f) => f.endsWith('.wasm')).sort();
  } catch {
    throw new Error(`no built examples in ${dir}: run \`npm run build:functions\` first`);
  }
  for (const file of files) await deploy(path.basename(file, '.wasm'), path.join(dir, file));
  return deployed;
}

/** Runs the build with --report and deploys each example it reports, one after another. */
async function buildAndDeploy(deploy: (name: string, file: string) => Promise<void>, onProgress?: (text: string) => void): Promise<void> {
  const child = spawn(process.execPath, [BUILD_SCRIPT, '--report'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', (chunk: Buffer) => onProgress?.(chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  const failures: string[] = [];
  let deploys = Promise.resolve();
  for await (const line of createInterface({ input: child.stdout })) {
    let report: { ready?: string; out?: string; failed?: string; error?: string };
    try {
      report = JSON.parse(line) as typeof report;
    } catch {
      continue;
    }
    if (report.failed) failures.push(`${report.failed}: ${report.error}`);
    else if (report.ready && report.out) {
      const { ready, out } = report;
      deploys = deploys.then(() => deploy(ready, out));
      // Surfaces a failed deploy now rather than after the whole build.
      deploys.catch(() => child.kill());
    }
  }
  const code = await exited;
  await deploys;
  if (failures.length > 0) throw new Error(`${failures.length} example(s) failed to build:\n${failures.join('\n')}`);
  if (code !== 0) throw new Error(`building the examples failed (exit code ${code})`);
}

/** The sha256 of a file's bytes (the artefact digest), read in chunks. */
async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
