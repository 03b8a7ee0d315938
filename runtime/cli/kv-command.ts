// `enoki kv ls|get|put|rm|scan`: a keygroup's items from the command line, through the node's
// admin item routes (runtime/http/keygroup-routes.ts).

import fs from 'node:fs/promises';
import { CliError, type NodeClient } from './client.js';

export interface KvCommandOptions {
  /** The value of `put`: `-d VALUE`, or `-d @file`. */
  data?: string;
  start?: string;
  limit?: string;
}

interface Sibling {
  value: string;
  version: Record<string, number>;
}
interface ScanPage {
  keygroup: string;
  mutable: boolean;
  items: { id: string; siblings: Sibling[] }[];
  next?: string;
}

export const KV_USAGE = `enoki kv ls                          keygroups on the node
  enoki kv ls <keygroup> [--start ID] [--limit N]     item ids (N default 100)
  enoki kv scan <keygroup> [--start ID] [--limit N]   items with every sibling's value and version
  enoki kv get <keygroup> <id>         an item's siblings (values and versions)
  enoki kv put <keygroup> <id> <value | -d VALUE | -d @file>
                                       set (append, in an append-only keygroup)
  enoki kv rm <keygroup> <id>          delete (mutable keygroups only)`;

const path = (kg: string, id?: string) => `/keygroups/${encodeURIComponent(kg)}${id === undefined ? '' : `/items/${encodeURIComponent(id)}`}`;

function need(value: string | undefined, what: string): string {
  if (!value) throw new CliError(`missing ${what}\n\n${KV_USAGE}`);
  return value;
}

function limitOption(raw: string | undefined): number {
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1) throw new CliError(`--limit must be a positive integer, got "${raw}"`);
  return n;
}

/** Up to `limit` items from `start`, page after page. */
async function scan(client: NodeClient, kg: string, options: KvCommandOptions): Promise<ScanPage> {
  const limit = limitOption(options.limit);
  let start = options.start ?? '';
  let result: ScanPage | undefined;
  for (;;) {
    const count = Math.min(1000, limit - (result?.items.length ?? 0));
    const page = await client.admin<ScanPage>('GET', `${path(kg)}/items?${new URLSearchParams({ start, count: String(count) })}`);
    if (result) result.items.push(...page.items);
    else result = { ...page, items: [...page.items] };
    result.next = page.next;
    if (page.next === undefined || result.items.length >= limit) return result;
    start = page.next;
  }
}

export async function runKv(client: NodeClient, args: string[], options: KvCommandOptions): Promise<void> {
  const [sub, kg, id, inline] = args;
  const print = (value: unknown): void => {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  };
  switch (sub) {
    case 'ls': {
      if (kg === undefined) {
        const { keygroups } = await client.admin<{ keygroups: { name: string; mutable: boolean; expiry: number }[] }>('GET', '/keygroups');
        for (const k of keygroups) process.stdout.write(`${k.name}${k.mutable ? '' : '  (append-only)'}${k.expiry ? `  (expiry ${k.expiry} s)` : ''}\n`);
        return;
      }
      const page = await scan(client, kg, options);
      for (const item of page.items) process.stdout.write(`${item.id}${item.siblings.length > 1 ? `  (${item.siblings.length} siblings)` : ''}\n`);
      if (page.next !== undefined) process.stderr.write(`… more from ${page.next} (--start ${page.next})\n`);
      return;
    }
    case 'scan': {
      const page = await scan(client, need(kg, 'the keygroup'), options);
      return print(page);
    }
    case 'get':
      return print(await client.admin('GET', path(need(kg, 'the keygroup'), need(id, 'the item id'))));
    case 'put': {
      if (inline !== undefined && options.data !== undefined) throw new CliError('give the value either as an argument or with -d, not both');
      const raw = inline ?? options.data;
      if (raw === undefined) throw new CliError(`missing the value\n\n${KV_USAGE}`);
      const value = raw.startsWith('@') && inline === undefined ? await readValue(raw.slice(1)) : raw;
      return print(await client.admin('PUT', path(need(kg, 'the keygroup'), need(id, 'the item id')), value));
    }
    case 'rm':
      return print(await client.admin('DELETE', path(need(kg, 'the keygroup'), need(id, 'the item id'))));
    default:
      throw new CliError(`${sub === undefined ? 'missing' : `unknown`} kv command${sub ? ` "${sub}"` : ''}\n\n${KV_USAGE}`);
  }
}

async function readValue(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    throw new CliError(`cannot read ${file}`);
  }
}
