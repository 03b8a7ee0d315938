// A function's allow-list of hosts for outgoing HTTP (wasi:http/outgoing-handler), given at deploy.
// Deny by default: a function without a list reaches no host. An entry is a host name or IP
// address, optionally with a port (`api.example.com`, `127.0.0.1:8080`, `[::1]:9000`), a
// wildcard for the subdomains of a domain (`*.example.com`, not the domain itself), or `*` for any
// host. Without a port an entry allows every port of that host.

import { EnokiError } from '../errors.js';

const HOST = /^(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;
export const MAX_ALLOWED_HOSTS = 64;

interface Entry {
  host: string;
  port?: number;
}

function parseEntry(entry: string): Entry | undefined {
  const text = entry.trim().toLowerCase();
  if (text === '*') return { host: '*' };
  const match = /^(\[[^\]]*\]|[^:]+)(?::(\d{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const [, host, port] = match;
  if (!HOST.test(host) && !IPV6.test(host)) return undefined;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return undefined;
  return { host, ...(port !== undefined && { port: Number(port) }) };
}

/** The list in canonical form (lower case, trimmed, deduplicated); ERR_INVALID_OPTION on a bad entry. */
export function normalizeAllowedHosts(entries: string[]): string[] {
  if (entries.length > MAX_ALLOWED_HOSTS) {
    throw new EnokiError('ERR_INVALID_OPTION', `at most ${MAX_ALLOWED_HOSTS} allowed hosts, got ${entries.length}`);
  }
  const out: string[] = [];
  for (const entry of entries) {
    if (!parseEntry(entry)) {
      throw new EnokiError(
        'ERR_INVALID_OPTION',
        `invalid allowed host ${JSON.stringify(entry.slice(0, 80))}: a host name or IP address with an optional :port, *.domain, or *`,
      );
    }
    const canonical = entry.trim().toLowerCase();
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

/** Whether a request to `url` (http or https) may leave the node under `allowed`. */
export function hostAllowed(allowed: readonly string[], url: URL): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return allowed.some((text) => {
    const entry = parseEntry(text);
    if (!entry) return false;
    if (entry.port !== undefined && entry.port !== port) return false;
    if (entry.host === '*') return true;
    if (entry.host.startsWith('*.')) return host.endsWith(entry.host.slice(1));
    return host === entry.host;
  });
}
