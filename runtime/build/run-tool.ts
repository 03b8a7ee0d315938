// Runs an external build tool (python, componentize-py) with a time bound, collecting
// what it printed so that a failure can be shown to the user.

import { spawn } from 'node:child_process';

export interface ToolRun {
  /** Exit code; null when the tool was killed (see timedOut). */
  code: number | null;
  timedOut: boolean;
  /** stdout and stderr interleaved as they came, capped at the last MAX_OUTPUT characters. */
  output: string;
  stdout: string;
}

export interface RunOptions {
  cwd?: string;
  /** The tool's whole environment (from loadToolConfig: only runtime/config.ts reads process.env). */
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
}

/** Enough for any error message; pip and componentize-py can print far more on a bad day. */
const MAX_OUTPUT = 64 * 1024;

/** The program itself could not be started (not installed, not executable). */
export class ToolNotFound extends Error {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`cannot run ${command}: ${reason}`);
    this.name = 'ToolNotFound';
  }
}

export function runTool(command: string, args: readonly string[], options: RunOptions): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let stdout = '';
    const keep = (text: string) => (text.length > MAX_OUTPUT ? text.slice(-MAX_OUTPUT) : text);
    child.stdout!.on('data', (chunk: Buffer) => {
      output = keep(output + chunk.toString());
      stdout = keep(stdout + chunk.toString());
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output = keep(output + chunk.toString());
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ToolNotFound(command, err.code === 'ENOENT' ? 'not found' : (err.code ?? err.message)));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, output, stdout });
    });
  });
}
