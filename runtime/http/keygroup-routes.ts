// Keygroup items under the admin token, for operators and `enoki kv`: list keygroups, scan,
// read (every sibling with its version), write and delete items, as FReD's client tools do.
// Writes go through the same key-value backend as a function's and are handed to replication
// like a committed invocation's. A mutable keygroup takes set and delete; an append-only one
// (immutable) takes a PUT of a new decimal id as an append and refuses deletes.

import { Hono, type Context } from 'hono';
import type { LocalWrite, ReplicaStore, Version } from '../../replication/store/port.js';
import { StoreError } from '../../replication/store/port.js';
import { EnokiError, ERROR_TABLE, type ErrorCode } from '../errors.js';
import type { WriteReplicator } from '../kv/keygroups.js';
import type { KvBackends, KvSibling } from '../kv/kv-backend.js';
import { requireAdmin } from './auth.js';
import { queryOnce, tooLarge } from './respond.js';
import { limitBody } from './server/limit-body.js';

export interface KeygroupRouteDeps {
  store: ReplicaStore;
  backends: KvBackends;
  replicator: WriteReplicator;
}

/** A scan answers at most this many items; `next` continues it. */
const MAX_SCAN = 1000;
const DEFAULT_SCAN = 100;

function siblings(list: KvSibling[]): { value: string; version: Version }[] {
  return list.map(({ value, version }) => ({ value, version }));
}

/** The store's own codes (ERR_ITEM_NOT_FOUND, ERR_WRONG_MUTABILITY, ...) are the answer's. */
function mapped(err: unknown): unknown {
  if (err instanceof StoreError && err.code in ERROR_TABLE) return new EnokiError(err.code as ErrorCode, err.message);
  return err;
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw mapped(err);
  }
}

function countOption(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_SCAN;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_SCAN) throw new EnokiError('ERR_INVALID_OPTION', `count must be an integer from 1 to ${MAX_SCAN}, got "${raw}"`);
  return n;
}

export function keygroupRoutes(deps: KeygroupRouteDeps & { adminToken: string; maxBodyBytes: number }): Hono {
  const { store, backends, replicator } = deps;
  const app = new Hono();
  app.use('*', requireAdmin(deps.adminToken));

  const open = (name: string) => guarded(async () => backends.open({ keygroup: name }));

  app.get('/', async (c) => c.json({ keygroups: (await store.listKeygroups()).sort((a, b) => (a.name < b.name ? -1 : 1)) }));

  app.get('/:kg', async (c) => {
    const info = await store.getKeygroup(c.req.param('kg'));
    if (!info) throw new EnokiError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${c.req.param('kg')} does not exist on this node`);
    return c.json(info);
  });

  // ?start=ID (inclusive, default the first) &count=N: items in id order, each with its siblings;
  // `next` is where the following page starts, absent after the last item.
  app.get('/:kg/items', async (c) => {
    const name = c.req.param('kg');
    const count = countOption(queryOnce(c, 'count'));
    const { backend, keygroup } = await open(name);
    const found = await guarded(() => backend.scan(name, { start: queryOnce(c, 'start') ?? '', count: count + 1 }));
    const page = found.slice(0, count);
    return c.json({
      keygroup: name,
      mutable: keygroup.mutable,
      items: page.map((item) => ({ id: item.id, siblings: siblings(item.siblings) })),
      ...(found.length > count ? { next: found[count].id } : {}),
    });
  });

  app.get('/:kg/items/:id', async (c) => {
    const { kg: name, id } = c.req.param();
    const { backend } = await open(name);
    const live = await guarded(() => backend.read(name, id));
    if (live.length === 0) throw new EnokiError('ERR_ITEM_NOT_FOUND', `keygroup ${name} has no item "${id}"`);
    return c.json({ keygroup: name, id, siblings: siblings(live) });
  });

  const write = async (c: Context, kind: 'put' | 'delete') => {
    const name = c.req.param('kg') as string;
    const id = c.req.param('id') as string;
    const { backend, keygroup } = await open(name);
    let op: LocalWrite;
    if (kind === 'delete') {
      if (!keygroup.mutable) throw new EnokiError('ERR_WRONG_MUTABILITY', `keygroup ${name} is append-only: its items cannot be deleted`);
      op = { kind: 'delete', keygroup: name, id };
    } else {
      const value = await c.req.text();
      if (value === '') throw new EnokiError('ERR_INVALID_VALUE', 'send the value as the request body (it must not be empty)');
      // An append-only keygroup appends under a new decimal id, as FReD's append does.
      op = keygroup.mutable ? { kind: 'set', keygroup: name, id, value } : { kind: 'append', keygroup: name, id, value };
    }
    const applied = await guarded(() => backend.commit([op]));
    // As for an invocation: committed here, and replication failing cannot undo it (anti-entropy
    // spreads the write later); the answer says so.
    let replicationError: string | undefined;
    if (applied.length > 0) {
      await replicator.replicate(applied).catch((err: unknown) => {
        replicationError = (err as Error)?.message ?? String(err);
      });
    }
    const sibling = applied[0]?.sibling;
    return c.json({
      keygroup: name,
      id,
      ...(kind === 'put' ? { appended: !keygroup.mutable } : { deleted: true }),
      ...(sibling ? { version: sibling.version } : {}),
      ...(replicationError ? { replicationError } : {}),
    });
  };

  app.put(
    '/:kg/items/:id',
    limitBody(deps.maxBodyBytes, () => tooLarge(deps.maxBodyBytes, 'the value')),
    (c) => write(c, 'put'),
  );
  app.delete('/:kg/items/:id', (c) => write(c, 'delete'));

  return app;
}
