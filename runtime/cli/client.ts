// HTTP client of a node's API for the CLI, turning error bodies into readable messages.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { ClientConfig } from '../config.js';

export class CliError extends Error {}

export class NodeClient {
  constructor(private readonly config: ClientConfig) {}

  async #token(): Promise<string> {
    if (this.config.token) return this.config.token;
    try {
      return (await fs.readFile(path.join(this.config.dataDir, 'admin-token'), 'utf8')).trim();
    } catch {
      throw new CliError(
        `no admin token: pass --token, set ENOKI_ADMIN_TOKEN, or run next to the node's data directory (${this.config.dataDir})`,
      );
    }
  }

  async request(method: string, route: string, options: { body?: Uint8Array | string; admin?: boolean; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.admin) headers.authorization = `Bearer ${await this.#token()}`;
    let res: Response;
    try {
      res = await fetch(this.config.url + route, { method, body: options.body as BodyInit | undefined, headers });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(`cannot reach the node at ${this.config.url} (${cause}); is it running? (enoki start)`);
    }
    return res;
  }

  /** A management call that must succeed; returns its JSON. */
  async admin<T>(method: string, route: string, body?: Uint8Array | string): Promise<T> {
    const res = await this.request(method, route, { body, admin: true });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const error = (json as { error?: { code: string; message: string } } | undefined)?.error;
      throw new CliError(error ? `${error.message} [${error.code}]` : `HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    return json as T;
  }
}
