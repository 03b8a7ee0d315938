// Item RPCs of FReD's client API: Read, Scan, Keys, Update, Append, Delete.
import { versionToWire } from '../grpc/wire.js';
import { StoreError, type AppliedWrite, type KeygroupInfo, type Sibling } from '../store/port.js';
import type { CheckedCall } from './access.js';
import { isCovered, writeConditionally } from './conditional.js';
import { afterWrite, type Handler, type RpcContext } from './context.js';
import {
  parseAppend,
  parseDelete,
  parseRange,
  parseRead,
  parseUpdate,
  type WireAppend,
  type WireDelete,
  type WireRange,
  type WireRead,
  type WireUpdate,
} from './requests.js';

/** FReD's Item; immutable keygroups' items carry an empty version. */
function wireItem(id: string, sibling: Sibling) {
  return { id, val: sibling.value, version: { version: versionToWire(sibling.version) } };
}

export function createDataRpcs(ctx: RpcContext): Record<string, Handler<never>> {
  /** Authorised and held here, or an error saying why not. */
  const open = async (user: string, keygroup: string, call: CheckedCall): Promise<KeygroupInfo> =>
    ctx.access.local(await ctx.access.authorize(user, keygroup, call));

  const requireMutable = (info: KeygroupInfo, call: string) => {
    if (!info.mutable) {
      throw new StoreError('ERR_WRONG_MUTABILITY', `keygroup ${info.name} is immutable: ${call} is not allowed, use Append`);
    }
  };

  /** Scan and Keys start at an id that must exist (FReD), then go on in code-unit order of ids. */
  const range = async (wire: WireRange, user: string, call: 'Scan' | 'Keys') => {
    const req = parseRange(wire);
    await open(user, req.keygroup, call);
    if ((await ctx.store.read(req.keygroup, req.id)).length === 0) {
      throw new StoreError('ERR_ITEM_NOT_FOUND', `${call} starts at item ${req.id}, which does not exist in keygroup ${req.keygroup}`);
    }
    // count limits items (ids); an item with siblings yields one entry per live sibling.
    return ctx.store.scan(req.keygroup, { start: req.id, count: req.count });
  };

  const Read: Handler<WireRead> = async (wire, user) => {
    const req = parseRead(wire);
    await open(user, req.keygroup, 'Read');
    let siblings = await ctx.store.read(req.keygroup, req.id);
    if (req.versions.length > 0) siblings = siblings.filter((s) => isCovered(s.version, req.versions));
    if (siblings.length === 0) {
      const which = req.versions.length > 0 ? ' in a version equal to or older than a given one' : '';
      throw new StoreError('ERR_ITEM_NOT_FOUND', `item ${req.id} not found in keygroup ${req.keygroup}${which}`);
    }
    return { data: siblings.map((s) => wireItem(req.id, s)) };
  };

  const Scan: Handler<WireRange> = async (wire, user) => {
    const items = await range(wire, user, 'Scan');
    return { data: items.flatMap((item) => item.siblings.map((s) => wireItem(item.id, s))) };
  };

  const Keys: Handler<WireRange> = async (wire, user) => {
    const items = await range(wire, user, 'Keys');
    return {
      keys: items.flatMap((item) => item.siblings.map((s) => ({ id: item.id, version: { version: versionToWire(s.version) } }))),
    };
  };

  const Update: Handler<WireUpdate> = async (wire, user) => {
    const req = parseUpdate(wire, ctx.maxValueBytes);
    requireMutable(await open(user, req.keygroup, 'Update'), 'Update');
    let applied: AppliedWrite[];
    if (req.versions.length === 0) {
      applied = await ctx.store.applyLocal([{ kind: 'set', keygroup: req.keygroup, id: req.id, value: req.value }]);
    } else {
      const write = { keygroup: req.keygroup, id: req.id, value: req.value, given: req.versions };
      applied = [await writeConditionally(ctx.store, write, ctx.clock)];
    }
    await afterWrite(ctx, applied);
    return { version: { version: versionToWire(applied[0]!.sibling.version) } };
  };

  const Delete: Handler<WireDelete> = async (wire, user) => {
    const req = parseDelete(wire);
    requireMutable(await open(user, req.keygroup, 'Delete'), 'Delete');
    let applied: AppliedWrite[];
    if (req.versions.length === 0) {
      applied = await ctx.store.applyLocal([{ kind: 'delete', keygroup: req.keygroup, id: req.id }]);
    } else {
      const write = { keygroup: req.keygroup, id: req.id, value: undefined, given: req.versions };
      applied = [await writeConditionally(ctx.store, write, ctx.clock)];
    }
    await afterWrite(ctx, applied);
    return { version: { version: versionToWire(applied[0]!.sibling.version) } };
  };

  const Append: Handler<WireAppend> = async (wire, user) => {
    const req = parseAppend(wire, ctx.maxValueBytes);
    const info = await open(user, req.keygroup, 'Append');
    if (info.mutable) {
      throw new StoreError('ERR_WRONG_MUTABILITY', `keygroup ${info.name} is mutable: Append is not allowed, use Update`);
    }
    // The store refuses a taken id (ERR_ITEM_EXISTS): appended items are never overwritten.
    const applied = await ctx.store.applyLocal([{ kind: 'append', keygroup: req.keygroup, id: req.id, value: req.value }]);
    await afterWrite(ctx, applied);
    return { id: req.id };
  };

  return { Read, Scan, Keys, Update, Delete, Append } as Record<string, Handler<never>>;
}
