// HTTP client of a node's API for the CLI, turning error bodies into readable messages.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { ClientConfig } from '../config.js';

export class CliError extends Error {}

export class NodeClient {
  constructor(private readonly config: ClientConfig) {}

  get url(): string {
    return this.config.url;
  }

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

  /** Polls GET /readyz until the node answers 200; a node not listening yet is waited for too. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      try {
        const res = await fetch(`${this.config.url}/readyz`, { signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        if (res.status === 200) return;
        last = `HTTP ${res.status} ${text.slice(0, 200)}`;
      } catch (err) {
        last = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      }
      if (performance.now() >= deadline) throw new CliError(`${this.config.url} not ready after ${Math.round(timeoutMs / 1000)} s (${last})`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** GET /invocations/{id} with the result token if given, else with the admin token when there is one. */
  async result(id: string, resultToken?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (resultToken) headers['x-enoki-result-token'] = resultToken;
    else {
      const token = await this.#token().catch(() => undefined);
      if (token) headers.authorization = `Bearer ${token}`;
    }
    return this.request('GET', `/invocations/${encodeURIComponent(id)}`, { headers });
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
