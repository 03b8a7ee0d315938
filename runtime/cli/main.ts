#!/usr/bin/env node
// The `enoki` command: run a node, and manage and call its functions over HTTP.

import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadClientConfig, loadConfig, ENV_VARS } from '../config.js';
import { startNode } from '../node.js';
import { runBuild, runSetup, runTypes } from './build-command.js';
import { CliError, NodeClient } from './client.js';
import { deployExamples } from './examples.js';
import { KV_USAGE, runKv } from './kv-command.js';
import { runNew } from './new-command.js';
import { withProgress } from './progress.js';

const USAGE = `enoki — stateful WebAssembly functions from edge to cloud

Usage:
  enoki start [--port N] [--data-dir DIR] [--examples]    run a node (Ctrl-C stops it); prints
                                 "ready … listening on URL" once it serves what it started with
  enoki wait [--timeout S]       wait until the node at --url is ready (GET /readyz); exit 1 on timeout
  enoki deploy <file.wasm> --name NAME [--keygroup KG] [--immutable] [--kv-node NODE]
               [--timeout MS] [--memory MIB] [--env KEY=VALUE]...
  enoki invoke <name> [-d DATA | -d @file] [-X METHOD] [--path /sub/path] [--async]
  enoki result <id> [--result-token T] [--wait]
                                 the result of an --async invocation (admin token, or its result token)
  enoki ls                       list functions
  enoki info <name>              versions, options and stats of a function
  enoki rm <name> [--purge]      delete a function (--purge also deletes its keygroup)
  enoki rollback <name> [--version vN]
  enoki logs <name> [--limit N] [--before SEQ]
                                 recent invocations with the guest's log lines (older: --before)
  enoki build <guest.js|.ts|.py|.wat> [-o out.wasm] [--feature stdio|random|clocks|http]...
               [--wit DIR --world NAME]   a guest to a component (default: Enoki's function world)
  enoki new <name> --lang js|ts|python|wat [--dir DIR]
                                 a function folder that builds and deploys as it is
  enoki types [-o DIR] [--wit DIR --world NAME]
                                 TypeScript declarations of a world, for guests' editors
  enoki setup python             install the Python guest toolchain (componentize-py)
  ${KV_USAGE}
  enoki certs --dir DIR [--node ID=HOST[,HOST…]]... [--client USER[=HOST[,HOST…]]]...
                                 cluster CA plus node and client certificates (never overwrites)
  enoki cluster [--dir DIR] [--port N] [--client-api-port N] [--peering-port N] [--etcd-port N]
                                 etcd and nodes edge1, edge2, cloud on loopback with the examples
                                 (default ./.enoki-cluster, HTTP 8081-8083, FReD client API
                                 9001-9003, peering 5555-5557, etcd 2479-2481; Ctrl-C stops it)

Common options: --url URL (default $ENOKI_URL or http://127.0.0.1:8080), --token TOKEN
(default $ENOKI_ADMIN_TOKEN or <data-dir>/admin-token), --data-dir DIR (default ./.enoki).
Node settings from the environment: ${Object.keys(ENV_VARS).join(', ')}.
Guest builds: ENOKI_CACHE_DIR (tool cache, default ~/.cache/enoki), ENOKI_PYTHON (default python3).`;

const OPTIONS = {
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  examples: { type: 'boolean' },
  name: { type: 'string' },
  keygroup: { type: 'string' },
  immutable: { type: 'boolean' },
  'kv-node': { type: 'string' },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  env: { type: 'string', multiple: true },
  data: { type: 'string', short: 'd' },
  request: { type: 'string', short: 'X' },
  path: { type: 'string' },
  async: { type: 'boolean' },
  purge: { type: 'boolean' },
  version: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  'result-token': { type: 'string' },
  wait: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  wit: { type: 'string' },
  world: { type: 'string' },
  lang: { type: 'string' },
  start: { type: 'string' },
  feature: { type: 'string', multiple: true },
  dir: { type: 'string' },
  node: { type: 'string', multiple: true },
  client: { type: 'string', multiple: true },
  'client-api-port': { type: 'string' },
  'peering-port': { type: 'string' },
  'etcd-port': { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function need(value: string | undefined, what: string): string {
  if (!value) throw new CliError(`missing ${what}\n\n${USAGE}`);
  return value;
}

async function start(values: Values): Promise<void> {
  const config = loadConfig({ port: values.port === undefined ? undefined : Number(values.port), dataDir: values['data-dir'] });
  let examples: string[] = [];
  // The examples are built (unchanged ones skipped) and deployed one by one while the node already
  // serves; it says it is ready (and GET /readyz answers 200) once all are deployed.
  const startup = values.examples
    ? async (functions: Parameters<typeof deployExamples>[0], url: string) => {
        process.stderr.write(`serving on ${url}; building and deploying the examples (GET /readyz answers 200 once all are)…\n`);
        examples = await deployExamples(functions, {
          build: true,
          onProgress: (text) => process.stderr.write(text),
          onDeployed: (name) => process.stderr.write(`  deployed ${url}/fn/${name}\n`),
        });
      }
    : undefined;
  const node = await startNode(config, undefined, { startup });
  if (examples.length > 0) process.stderr.write(`examples: ${examples.map((n) => `${node.url}/fn/${n}`).join('  ')}\n`);
  if (node.cluster && config.cluster) {
    const host = config.cluster.advertiseHost;
    process.stderr.write(`FReD client API on ${host}:${node.cluster.clientApiPort}, peering on ${host}:${node.cluster.peeringPort}\n`);
  }
  // Printed only now: scripts (and node-process.ts) take this line to mean the node is ready.
  process.stderr.write(`enoki node ${node.nodeId} ready, listening on ${node.url}\n`);
  if (node.adminTokenCreated) {
    process.stderr.write(`admin token (shown once, kept in ${path.join(config.dataDir, 'admin-token')}): ${node.adminToken}\n`);
  }
  const stop = async () => {
    process.stderr.write('stopping…\n');
    await node.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function portOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65533) throw new CliError(`--${name} must be a port number (1–65533), got "${value}"`);
  return port;
}

async function cluster(values: Values): Promise<void> {
  const { runCluster } = await import('./cluster-command.js');
  process.exitCode = await runCluster({
    dir: values.dir ?? '.enoki-cluster',
    httpPort: portOption(values.port, 'port', 8081),
    clientApiPort: portOption(values['client-api-port'], 'client-api-port', 9001),
    peeringPort: portOption(values['peering-port'], 'peering-port', 5555),
    etcdPort: portOption(values['etcd-port'], 'etcd-port', 2479),
    env: process.env,
  });
}

async function readData(data: string | undefined): Promise<Uint8Array | string | undefined> {
  if (data === undefined) return undefined;
  if (data.startsWith('@')) return fs.readFile(data.slice(1));
  return data;
}

async function certs(values: Values): Promise<void> {
  const nodes = (values.node ?? []).map((spec) => {
    const [id, hosts = ''] = spec.split('=');
    if (!id || !hosts) throw new CliError(`--node needs ID=HOST[,HOST…], got "${spec}"`);
    return { id, hosts: hosts.split(',').filter(Boolean) };
  });
  // A client's hosts are the addresses it connects from (FReD's client API checks them); none given: loopback.
  const clients = (values.client ?? []).map((spec) => {
    const [user, hosts] = spec.split('=');
    if (!user || hosts === '') throw new CliError(`--client needs USER[=HOST[,HOST…]], got "${spec}"`);
    return hosts === undefined ? user : { user, hosts: hosts.split(',').filter(Boolean) };
  });
  const { runCertsCommand } = await import('../../replication/security/certs-cli.js');
  process.stdout.write((await runCertsCommand({ dir: need(values.dir, '--dir'), nodes, clients })) + '\n');
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const client = new NodeClient(loadClientConfig({ url: values.url, token: values.token, dataDir: values['data-dir'] }));
  const print = (value: unknown): void => {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  };
  switch (command) {
    case 'start':
      return start(values);
    case 'build':
      return runBuild(need(arg, 'the guest source file'), { output: values.output, features: values.feature, wit: values.wit, world: values.world });
    case 'new':
      return runNew({ name: need(arg, 'the function name'), lang: need(values.lang, '--lang js|ts|python|wat'), dir: values.dir });
    case 'types':
      return runTypes({ wit: values.wit, world: values.world, outDir: values.output });
    case 'setup':
      return runSetup(arg);
    case 'kv':
      return runKv(client, positionals.slice(1), { data: values.data, start: values.start, limit: values.limit });
    case 'certs':
      return certs(values);
    case 'cluster':
      return cluster(values);
    case 'deploy': {
      const file = need(arg, 'the component file');
      const name = need(values.name ?? path.basename(file, '.wasm'), '--name');
      const bytes = await fs.readFile(file).catch(() => {
        throw new CliError(`cannot read ${file}`);
      });
      const query = new URLSearchParams();
      if (values.keygroup) query.set('keygroup', values.keygroup);
      if (values.immutable) query.set('immutable', 'true');
      if (values['kv-node']) query.set('kvNode', values['kv-node']);
      if (values.timeout) query.set('timeoutMs', values.timeout);
      if (values.memory) query.set('memoryMiB', values.memory);
      for (const e of values.env ?? []) query.append('env', e);
      const qs = query.size > 0 ? `?${query}` : '';
      const result = await withProgress(`deploying ${name} (${(bytes.length / 1024 / 1024).toFixed(1)} MB)`, () =>
        client.admin(`PUT`, `/functions/${encodeURIComponent(name)}${qs}`, bytes),
      );
      return print(result);
    }
    case 'invoke': {
      const name = need(arg, 'the function name');
      const method = values.request ?? (values.data !== undefined ? 'POST' : 'GET');
      const res = await client.request(method, `/fn/${encodeURIComponent(name)}${values.path ?? ''}`, {
        body: await readData(values.data),
        headers: values.async ? { 'x-enoki-async': 'true' } : {},
      });
      const body = new Uint8Array(await res.arrayBuffer());
      process.stdout.write(body);
      if (body.length > 0 && body[body.length - 1] !== 10 && process.stdout.isTTY) process.stdout.write('\n');
      if (!res.ok) process.exitCode = 1;
      return;
    }
    case 'ls':
      return print(await client.admin('GET', '/functions'));
    case 'info':
      return print(await client.admin('GET', `/functions/${encodeURIComponent(need(arg, 'the function name'))}`));
    case 'rm':
      return print(await client.admin('DELETE', `/functions/${encodeURIComponent(need(arg, 'the function name'))}${values.purge ? '?purge=true' : ''}`));
    case 'rollback':
      return print(
        await client.admin('POST', `/functions/${encodeURIComponent(need(arg, 'the function name'))}/rollback`, values.version ? JSON.stringify({ version: values.version }) : undefined),
      );
    case 'logs': {
      const query = new URLSearchParams();
      if (values.limit) query.set('limit', values.limit);
      if (values.before) query.set('before', values.before);
      return print(await client.admin('GET', `/functions/${encodeURIComponent(need(arg, 'the function name'))}/logs${query.size > 0 ? `?${query}` : ''}`));
    }
    case 'wait': {
      const timeoutS = values.timeout === undefined ? 300 : Number(values.timeout);
      if (!(timeoutS > 0)) throw new CliError(`--timeout must be a number of seconds, got "${values.timeout}"`);
      await client.waitReady(timeoutS * 1000);
      process.stderr.write(`${client.url} is ready\n`);
      return;
    }
    case 'result': {
      const id = need(arg, 'the invocation id');
      for (;;) {
        const res = await client.result(id, values['result-token']);
        if (res.status === 202 && values.wait) {
          await res.arrayBuffer();
          await new Promise((resolve) => setTimeout(resolve, 200));
          continue;
        }
        const body = new Uint8Array(await res.arrayBuffer());
        process.stdout.write(body);
        if (body.length > 0 && body[body.length - 1] !== 10 && process.stdout.isTTY) process.stdout.write('\n');
        if (!res.ok) process.exitCode = 1;
        return;
      }
    }
    default:
      throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof CliError || (err as { code?: string }).code ? (err as Error).message : String((err as Error)?.stack ?? err);
  process.stderr.write(`enoki: ${message}\n`);
  process.exit(1);
});
