// Starts a real node in-process for a test: temporary data directory, a free port, a known
// admin token, silent logs. Always call close().

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig, type NodeConfig } from '../../runtime/config.js';
import { startNode, type RunningNode } from '../../runtime/node.js';

export const TOKEN = 'test-admin-token';
export const BUILD_DIR = fileURLToPath(new URL('../../../functions/build', import.meta.url));

export function guestPath(name: string): string {
  return name.includes('/') ? path.join(BUILD_DIR, name) : path.join(BUILD_DIR, `${name}.wasm`);
}

export async function guest(name: string): Promise<Uint8Array> {
  return fs.readFile(guestPath(name));
}

export interface TestNode {
  node: RunningNode;
  url: string;
  dataDir: string;
  admin(method: string, route: string, body?: BodyInit): Promise<Response>;
  deploy(name: string, bytes: Uint8Array, query?: string): Promise<Response>;
  call(name: string, init?: RequestInit & { path?: string }): Promise<Response>;
  restart(overrides?: Partial<NodeConfig>): Promise<void>;
  close(): Promise<void>;
}

export async function startTestNode(overrides: Partial<NodeConfig> = {}, dataDir?: string): Promise<TestNode> {
  const dir = dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-test-')));
  const start = (o: Partial<NodeConfig>) =>
    startNode(loadConfig({ port: 0, host: '127.0.0.1', dataDir: dir, adminToken: TOKEN, workers: 2, prewarm: false, ...o }, {}), pino({ level: 'silent' }));
  const handle: TestNode = {
    node: await start(overrides),
    get url() {
      return this.node.url;
    },
    dataDir: dir,
    admin(method, route, body) {
      return fetch(this.url + route, { method, body, headers: { authorization: `Bearer ${TOKEN}` } });
    },
    deploy(name, bytes, query = '') {
      return this.admin('PUT', `/functions/${name}${query}`, bytes as Uint8Array<ArrayBuffer>);
    },
    call(name, init = {}) {
      return fetch(`${this.url}/fn/${name}${init.path ?? ''}`, init);
    },
    async restart(o = overrides) {
      await this.node.close();
      this.node = await start(o);
    },
    async close() {
      await this.node.close();
      if (!dataDir) await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
