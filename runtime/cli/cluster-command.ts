// `enoki cluster`: a three-node cluster on loopback for trying replication — etcd with TLS, the
// certificates, and nodes edge1, edge2 and cloud as child processes with the example functions.
// Everything lives under one directory, so a second start resumes the same cluster.
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { runCertsCommand } from '../../replication/security/certs-cli.js';
import { canInstallEtcd, findEtcd, findOrInstallEtcd, startLocalEtcd, type LocalEtcd } from '../cluster/local-etcd.js';
import { CliError } from './client.js';
import { spawnNode, type NodeProcess } from './node-process.js';
import { withProgress } from './progress.js';

export interface ClusterCommandOptions {
  /** Certificates, etcd's data, each node's data directory and the logs. */
  dir: string;
  /** HTTP port of edge1; edge2 and cloud take the next two. */
  httpPort: number;
  /** FReD client API port of edge1; the others take the next two. */
  clientApiPort: number;
  /** FReD peering port of edge1; the others take the next two. */
  peeringPort: number;
  /** etcd's client port; its peer and health listeners take the next two. */
  etcdPort: number;
  /** The environment the nodes inherit (minus what this command sets for each). */
  env: NodeJS.ProcessEnv;
  out?: NodeJS.WriteStream;
}

/** In start order: the cloud first, so the edges can add it to the keygroups they create. */
const NODES = [
  { id: 'cloud', slot: 2, edge: false },
  { id: 'edge1', slot: 0, edge: true },
  { id: 'edge2', slot: 1, edge: true },
] as const;

const HOSTS = ['127.0.0.1', 'localhost'];

/** Variables this command sets per node; the user's values would contradict the layout. */
const SET_PER_NODE = [
  'PORT',
  'ENOKI_HOST',
  'ENOKI_DATA_DIR',
  'ENOKI_NODE_ID',
  'ENOKI_ETCD',
  'ENOKI_CERTS_DIR',
  'ENOKI_PEERING_PORT',
  'ENOKI_CLIENT_API_PORT',
  'ENOKI_ADVERTISE_HOST',
  'ENOKI_CLOUD_NODE',
  'ENOKI_KEYGROUP_OWNER',
];

/** Runs until SIGINT, SIGTERM or SIGHUP (or a node dies); resolves with the exit code. */
export async function runCluster(options: ClusterCommandOptions): Promise<number> {
  const out = options.out ?? process.stderr;
  const dir = path.resolve(options.dir);
  const relative = path.relative(process.cwd(), dir);
  const shown = relative === '' ? '.' : relative.startsWith('..') ? dir : relative;
  const certs = path.join(dir, 'certs');
  const logs = path.join(dir, 'logs');
  const ports = (base: number, slot: number) => base + slot;

  const nodes: NodeProcess[] = [];
  let etcd: LocalEtcd | undefined;
  const abort = new AbortController();
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      abort.abort();
      // Nodes first (they deregister nothing, but stop cleanly while etcd still answers), then etcd.
      await Promise.all(nodes.map((n) => n.stop()));
      await etcd?.stop();
    })();
    return stopping;
  };
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // One Ctrl-C can arrive twice (from the terminal and forwarded by `npm run`): only a later
      // one means "do not wait for a clean shutdown".
      if (Date.now() - firstSignalAt < 1000) return;
      out.write(`${signal} again: killing the cluster\n`);
      for (const n of nodes) process.kill(n.pid, 'SIGKILL');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    out.write(`\n${signal}: stopping the cluster…\n`);
    void stopAll();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  try {
    await fs.mkdir(logs, { recursive: true });
    await checkPortsFree([
      ...[0, 1, 2].flatMap((slot) => [
        ports(options.httpPort, slot),
        ports(options.clientApiPort, slot),
        ports(options.peeringPort, slot),
      ]),
      options.etcdPort,
      options.etcdPort + 1,
      options.etcdPort + 2,
    ]);

    // Installing needs root; anyone else gets told how (findOrInstallEtcd's error says it).
    const binary =
      findEtcd(options.env.PATH) ??
      (canInstallEtcd()
        ? await withProgress("etcd not found: installing Debian's etcd-server with apt-get", async () =>
            findOrInstallEtcd({ env: options.env, install: true }),
          out)
        : findOrInstallEtcd({ env: options.env, install: false }));

    const summary = await withProgress(`certificates in ${shown}/certs (CA, etcd, edge1, edge2, cloud, client admin)`, () =>
      runCertsCommand({
        dir: certs,
        nodes: [{ id: 'etcd', hosts: HOSTS }, ...['edge1', 'edge2', 'cloud'].map((id) => ({ id, hosts: HOSTS }))],
        clients: ['admin'],
      }),
    out);
    const issued = summary.split('\n').filter((l) => /: (created|issued) /.test(l)).length;
    out.write(`  ${issued === 0 ? 'all reused' : `${issued} new`}${warnings(summary)}\n`);

    if (abort.signal.aborted) return 130;
    const started = await withProgress(`etcd (${binary}) on https://127.0.0.1:${options.etcdPort}`, () =>
      startLocalEtcd({
        binary,
        dataDir: path.join(dir, 'etcd'),
        clientPort: options.etcdPort,
        tls: { certFile: path.join(certs, 'etcd.pem'), keyFile: path.join(certs, 'etcd-key.pem'), caFile: path.join(certs, 'ca.pem') },
        logFile: path.join(logs, 'etcd.log'),
        ownProcessGroup: true,
      }),
    out);
    etcd = started;
    if (abort.signal.aborted) {
      await started.stop();
      return 130;
    }

    const base = Object.fromEntries(Object.entries(options.env).filter(([name]) => !SET_PER_NODE.includes(name)));
    for (const node of NODES) {
      const env: NodeJS.ProcessEnv = {
        ...base,
        ENOKI_HOST: '127.0.0.1',
        ENOKI_NODE_ID: node.id,
        ENOKI_ETCD: started.endpoint,
        ENOKI_CERTS_DIR: certs,
        ENOKI_PEERING_PORT: String(ports(options.peeringPort, node.slot)),
        ENOKI_CLIENT_API_PORT: String(ports(options.clientApiPort, node.slot)),
        ENOKI_ADVERTISE_HOST: '127.0.0.1',
        // The demo's client certificate may read and write the functions' keygroups.
        ENOKI_KEYGROUP_OWNER: 'admin',
        ...(node.edge ? { ENOKI_CLOUD_NODE: 'cloud' } : {}),
      };
      const spawned = await withProgress(`node ${node.id} (starting, deploying the examples)`, () =>
        spawnNode({
          name: node.id,
          args: ['--port', String(ports(options.httpPort, node.slot)), '--data-dir', path.join(dir, node.id), '--examples'],
          env,
          logFile: path.join(logs, `${node.id}.log`),
          ownProcessGroup: true,
          signal: abort.signal,
        }),
      out).catch(async (err: Error) => {
        throw abort.signal.aborted ? new Cancelled() : err;
      });
      nodes.push(spawned);
    }

    out.write('\n');
    for (const node of [...nodes].sort((a, b) => a.url.localeCompare(b.url))) {
      out.write(
        `${node.name.padEnd(6)} ${node.url}  FReD client API ${node.clientApi}  peering ${node.peering}  data ${shown}/${node.name}  log ${shown}/logs/${node.name}.log\n`,
      );
    }
    const edge1 = nodes.find((n) => n.name === 'edge1')!;
    const edge2 = nodes.find((n) => n.name === 'edge2')!;
    const local = (url: string) => url.replace('http://127.0.0.1', 'localhost');
    out.write(
      `\nTry (the count is shared between the edges):\n` +
        `  curl ${local(edge1.url)}/fn/counter; curl ${local(edge2.url)}/fn/counter\n` +
        `FReD clients: CA ${shown}/certs/ca.pem, certificate ${shown}/certs/admin.pem, key ${shown}/certs/admin-key.pem\n` +
        `Admin tokens: ${shown}/<node>/admin-token (npx enoki ls --url ${edge1.url} --data-dir ${shown}/edge1)\n` +
        `Ctrl-C stops the cluster; a second \`enoki cluster\` resumes it from ${shown}.\n`,
    );

    // Running: until a signal, or until a node dies on its own (then the cluster is not what was printed).
    const died = await Promise.race([
      ...nodes.map((n) => n.exited.then((how) => ({ node: n, how }))),
      new Promise<undefined>((resolve) => abort.signal.addEventListener('abort', () => resolve(undefined), { once: true })),
    ]);
    if (died && !stopping) {
      out.write(`node ${died.node.name} exited (code ${died.how.code}, signal ${died.how.signal}); see ${shown}/logs/${died.node.name}.log. Stopping the cluster…\n`);
      await stopAll();
      return 1;
    }
    await stopAll();
    out.write('cluster stopped\n');
    return 0;
  } catch (err) {
    await stopAll();
    if (err instanceof Cancelled) {
      out.write('cluster stopped\n');
      return 130;
    }
    throw err;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

class Cancelled extends Error {}

function warnings(summary: string): string {
  const lines = summary.split('\n').filter((l) => l.includes('warning:'));
  return lines.length === 0 ? '' : '\n  ' + lines.join('\n  ');
}

/** Fails early with the ports in use, rather than with one node's bind error in its log. */
async function checkPortsFree(ports: number[]): Promise<void> {
  const taken: number[] = [];
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (!free) taken.push(port);
  }
  if (taken.length > 0) {
    throw new CliError(
      `port(s) ${taken.join(', ')} in use (another \`enoki cluster\`?); choose others with --port, --client-api-port, --peering-port, --etcd-port`,
    );
  }
}
