// The node's API fuzzed from its own OpenAPI document with schemathesis (PyPI, pinned; installed
// into a cached virtualenv by test/support/schemathesis.ts): a bounded run against a node started
// as operators start it, in a process of its own, finds no 5xx caused by the request and no crash,
// and every answer has a documented status and, for JSON, a documented shape.
//
// Checks: schemathesis's own (status, content type, headers and schema of every answer; invalid
// input refused with a 4xx; auth enforced), with three left out for reasons:
// - not_a_server_error fails every 5xx; fuzz_checks.py replaces it with no_node_fault, which lets
//   through only the 5xx a function's failure or the node's load can cause (500 ERR_GUEST_*,
//   503 ERR_OVERLOADED, …, each with its code in X-Enoki-Error-Code) and fails any other;
// - unsupported_method wants 405 for a method a path lacks: the node answers 404 ERR_ROUTE_NOT_FOUND
//   for a method it has no route for, as for a path it has none for;
// - positive_data_acceptance wants every schema-valid request accepted: whether a body is a
//   WebAssembly component of a known world, or a keygroup exists with that mutability, is not a
//   matter of schema, and the node rightly answers such requests 4xx.
// The run is bounded (examples per operation, and a time limit on the whole process).

import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { ERROR_TABLE } from '../../../runtime/errors.js';
import { startCliNode } from '../../helpers/cli-node.js';
import { guest, TOKEN } from '../../helpers/test-node.js';
import { ensureSchemathesis } from '../../support/schemathesis.js';

/** The source tree's test/runtime/http, where fuzz_checks.py lives (tsc copies no .py to dist). */
const CHECKS_DIR = fileURLToPath(new URL('../../../../test/runtime/http/', import.meta.url));
const MAX_EXAMPLES = 20;
const RUN_LIMIT_MS = 6 * 60_000;

/** 5xx that a request may legitimately meet: a function failing, the node's load, a node stopping. */
const ALLOWED_5XX = Object.entries(ERROR_TABLE)
  .filter(([code, { http, blame }]) => http >= 500 && (blame === 'guest' || code === 'ERR_OVERLOADED' || code === 'ERR_SHUTTING_DOWN'))
  .map(([code]) => code);

const test = suite('http: API fuzz from the OpenAPI document');
const tool = await ensureSchemathesis((line) => process.stdout.write(`${line}\n`));

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      output += `\n[killed after ${RUN_LIMIT_MS / 1000} s]`;
      child.kill('SIGKILL');
    }, RUN_LIMIT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

if (!tool.ok) {
  // Without Python there is no schemathesis: say so loudly rather than pass silently.
  test.skip('a bounded fuzz run finds no 5xx caused by the request and no crash', () => undefined);
  process.stdout.write(`\nSKIPPED: API fuzz — ${tool.reason}\n`);
} else {
  test('a bounded fuzz run finds no 5xx caused by the request and no crash', async () => {
    const node = await startCliNode();
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-fuzz-'));
    try {
      for (const name of ['hello', 'echo', 'counter']) {
        const res = await node.admin('PUT', `/functions/${name}`, (await guest(name)) as Uint8Array<ArrayBuffer>);
        assert.is(res.status, 201, await res.text());
      }
      const { nodeId } = (await (await fetch(`${node.url}/healthz`)).json()) as { nodeId: string };
      // Invocations go to the echo function, which answers with what it was given; item routes
      // to the counter's keygroup: inputs then reach a real guest and a real keygroup.
      await fs.writeFile(
        path.join(work, 'schemathesis.toml'),
        ['[[operations]]', 'include-path-regex = "^/fn/"', 'parameters = { "path.name" = "echo" }', '', '[[operations]]', 'include-path-regex = "^/keygroups/"', 'parameters = { "path.kg" = "counter" }', ''].join('\n'),
      );
      // A new seed each run (so runs cover more inputs); ENOKI_FUZZ_SEED replays a failing one.
      const seed = process.env.ENOKI_FUZZ_SEED || String(Math.floor(Math.random() * 2 ** 31));
      const args = [
        ...tool.args,
        '--config-file',
        path.join(work, 'schemathesis.toml'),
        'run',
        `${node.url}/openapi.json`,
        '--checks',
        'all',
        '--exclude-checks',
        'not_a_server_error,unsupported_method,positive_data_acceptance',
        '--header',
        `Authorization: Bearer ${TOKEN}`,
        '--max-examples',
        String(MAX_EXAMPLES),
        '--seed',
        seed,
        '--request-timeout',
        '30',
        '--generation-database',
        'none',
        '--no-color',
      ];
      const result = await run(tool.python, args, {
        cwd: work,
        env: { ...process.env, SCHEMATHESIS_HOOKS: 'fuzz_checks', PYTHONPATH: CHECKS_DIR, ENOKI_FUZZ_ALLOWED_5XX: JSON.stringify(ALLOWED_5XX) },
      });
      const summary = /(\d+) generated/.exec(result.output)?.[0] ?? 'no summary';
      process.stdout.write(`\nschemathesis (seed ${seed}): ${summary}\n`);
      // Its progress display redraws lines with escape codes even into a pipe: keep the report.
      // eslint-disable-next-line no-control-regex
      const plain = result.output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
      const report = plain.slice(Math.max(0, plain.search(/^=+ (ERRORS|FAILURES|WARNINGS|SUMMARY) =+$/m)));
      assert.is(result.code, 0, `schemathesis found problems (rerun with --seed ${seed}):\n${report.slice(0, 12_000)}`);
      assert.match(plain, /Tested: +\d+/, 'schemathesis tested no operation');
      // Still the same process, answering.
      const health = await fetch(`${node.url}/healthz`);
      assert.is(health.status, 200);
      assert.is(((await health.json()) as { nodeId: string }).nodeId, nodeId);
    } finally {
      await node.stop();
      await fs.rm(work, { recursive: true, force: true });
    }
  });
}

test.run();
