// Sibling-set rules every ReplicaStore applies (pure): liveness under expiry, local and
// conditional writes as validated plans, and the merge of a sibling received from a peer.
import {
  StoreError,
  type AppliedWrite,
  type ConditionalLocalWrite,
  type KeygroupInfo,
  type LocalWrite,
  type Sibling,
  type Version,
} from './port.js';
import {
  compare,
  compareSiblings,
  isCovered,
  merge,
  tick,
  versionText,
  validateAppendId,
  validateId,
  validateKeygroupName,
  validateValue,
  validateVersion,
} from './version.js';

export function isExpired(sibling: Sibling, info: KeygroupInfo, now: number): boolean {
  return info.expiry > 0 && sibling.storedAt + info.expiry * 1000 <= now;
}

/** What readers see: no tombstones, nothing expired, winner first. */
export function liveSiblings(siblings: readonly Sibling[], info: KeygroupInfo, now: number): Sibling[] {
  return siblings.filter((s) => !s.tombstone && !isExpired(s, info, now)).sort(compareSiblings);
}

/** What full sync sends: tombstones included, expired siblings left out (expiry is per node). */
export function unexpiredSiblings(siblings: readonly Sibling[], info: KeygroupInfo, now: number): Sibling[] {
  return siblings.filter((s) => !isExpired(s, info, now)).sort(compareSiblings);
}

export function copySibling(s: Sibling): Sibling {
  return { value: s.value, version: { ...s.version }, tombstone: s.tombstone, storedAt: s.storedAt };
}

export function validateKeygroupInfo(info: KeygroupInfo): void {
  validateKeygroupName(info.name);
  if (typeof info.mutable !== 'boolean') {
    throw new StoreError('ERR_INVALID_VALUE', `keygroup ${info.name}: mutable must be a boolean`);
  }
  if (!Number.isFinite(info.expiry) || info.expiry < 0) {
    throw new StoreError('ERR_INVALID_VALUE', `keygroup ${info.name}: expiry must be a non-negative number of seconds`);
  }
}

/** setKeygroupExpiry's argument: whole seconds, 0 = never. */
export function validateExpiry(name: string, expiry: unknown): asserts expiry is number {
  if (typeof expiry !== 'number' || !Number.isSafeInteger(expiry) || expiry < 0) {
    throw new StoreError('ERR_INVALID_VALUE', `keygroup ${name}: expiry must be a non-negative integer number of seconds`);
  }
}

export type KeygroupLookup = (name: string) => KeygroupInfo | undefined;

export function requireKeygroup(lookup: KeygroupLookup, name: string): KeygroupInfo {
  validateKeygroupName(name);
  const info = lookup(name);
  if (!info) throw new StoreError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${name} does not exist`);
  return info;
}

/**
 * Checks of a batch that do not depend on stored items: names, values, keygroups, mutability.
 * A store runs this before loading anything so a malformed batch never reaches storage.
 */
export function validateWrites(writes: readonly LocalWrite[], keygroups: KeygroupLookup, maxValueBytes: number): void {
  for (const write of writes) {
    const info = requireKeygroup(keygroups, write.keygroup);
    switch (write.kind) {
      case 'set':
      case 'delete':
        validateId(write.id);
        if (write.kind === 'set') validateValue(write.value, maxValueBytes);
        if (!info.mutable) {
          throw new StoreError('ERR_WRONG_MUTABILITY', `keygroup ${info.name} is immutable: ${write.kind} is not allowed, use append`);
        }
        break;
      case 'append':
        validateAppendId(write.id);
        validateValue(write.value, maxValueBytes);
        if (info.mutable) {
          throw new StoreError('ERR_WRONG_MUTABILITY', `keygroup ${info.name} is mutable: append is not allowed, use set`);
        }
        break;
      default:
        throw new StoreError('ERR_INVALID_VALUE', `unknown write kind ${JSON.stringify((write as { kind: unknown }).kind)}`);
    }
  }
}

export interface PlannedItem {
  keygroup: string;
  id: string;
  /** The item's complete sibling list after the batch. */
  siblings: Sibling[];
}

export interface LocalPlan {
  applied: AppliedWrite[];
  items: PlannedItem[];
}

export interface PlanContext {
  nodeId: string;
  now: number;
  keygroups: KeygroupLookup;
  /** Every stored sibling of an item (tombstones and expired ones included). */
  stored: (keygroup: string, id: string) => readonly Sibling[];
}

/**
 * Runs a validated batch against the stored state in memory, in order, so later writes to an id
 * see earlier ones. Throws on the first item-state error; nothing has been written by then.
 */
export function planLocalWrites(writes: readonly LocalWrite[], ctx: PlanContext): LocalPlan {
  const items = new Map<string, PlannedItem>();
  const applied: AppliedWrite[] = [];
  for (const write of writes) {
    const key = itemRef(write.keygroup, write.id);
    const current = items.get(key)?.siblings ?? ctx.stored(write.keygroup, write.id);
    const info = ctx.keygroups(write.keygroup)!;
    const live = liveSiblings(current, info, ctx.now);
    if (write.kind === 'delete' && live.length === 0) {
      throw new StoreError('ERR_ITEM_NOT_FOUND', `item ${write.id} does not exist in keygroup ${write.keygroup}`);
    }
    if (write.kind === 'append' && live.length > 0) {
      throw new StoreError('ERR_ITEM_EXISTS', `item ${write.id} already exists in keygroup ${write.keygroup}`);
    }
    // A local write supersedes every sibling this node stores, tombstones and expired ones too,
    // so its version is never older than anything the node has seen. Appends carry no version.
    const version = write.kind === 'append' ? {} : tick(merge(...current.map((s) => s.version)), ctx.nodeId);
    const sibling: Sibling = {
      value: write.kind === 'delete' ? '' : write.value,
      version,
      tombstone: write.kind === 'delete',
      storedAt: ctx.now,
    };
    items.set(key, { keygroup: write.keygroup, id: write.id, siblings: [sibling] });
    applied.push({ keygroup: write.keygroup, id: write.id, sibling: copySibling(sibling) });
  }
  return { applied, items: [...items.values()] };
}

/** Checks of a conditional write that do not depend on stored items, as validateWrites. */
export function validateConditional(
  write: ConditionalLocalWrite,
  given: readonly Version[],
  keygroups: KeygroupLookup,
  maxValueBytes: number,
): void {
  const kind = (write as { kind?: unknown } | null)?.kind;
  if (kind !== 'set' && kind !== 'delete') {
    throw new StoreError('ERR_INVALID_VALUE', `a conditional write is a set or a delete, not ${JSON.stringify(kind)}`);
  }
  validateWrites([write], keygroups, maxValueBytes);
  if (!Array.isArray(given) || given.length === 0) {
    throw new StoreError('ERR_INVALID_VALUE', 'a conditional write needs at least one given version');
  }
  given.forEach(validateVersion);
}

export interface ConditionalPlan {
  applied: AppliedWrite;
  /** The item's complete sibling list after the write. */
  siblings: Sibling[];
}

/**
 * Runs a validated conditional write against an item's stored siblings (tombstones and expired
 * ones included). Live siblings must all be covered by `given`: those are what Read showed the
 * client. Tombstones and expired siblings need no cover (a client never sees them) but may not
 * be equal to or newer than the new version, or the write would be lost on arrival; concurrent
 * ones stay as siblings, as if the write had come from a peer.
 */
export function planConditional(
  write: ConditionalLocalWrite,
  given: readonly Version[],
  ctx: { nodeId: string; now: number; info: KeygroupInfo; stored: readonly Sibling[] },
): ConditionalPlan {
  const { keygroup, id } = write;
  const live = liveSiblings(ctx.stored, ctx.info, ctx.now);
  if (write.kind === 'delete' && live.length === 0) {
    throw new StoreError('ERR_ITEM_NOT_FOUND', `item ${id} does not exist in keygroup ${keygroup}`);
  }
  const givenText = given.map((v) => `{${versionText(v)}}`).join(', ');
  const uncovered = live.find((s) => !isCovered(s.version, given));
  if (uncovered) {
    throw new StoreError(
      'ERR_VERSION_CONFLICT',
      `item ${id} in keygroup ${keygroup} has version {${versionText(uncovered.version)}}, which none of the given ` +
        `versions (${givenText}) equals or descends from; read it again`,
    );
  }
  const base = merge(...given);
  if ((Object.hasOwn(base, ctx.nodeId) ? base[ctx.nodeId]! : 0) >= Number.MAX_SAFE_INTEGER) {
    throw new StoreError('ERR_INVALID_VALUE', `given versions (${givenText}): counter of ${ctx.nodeId} too large to tick`);
  }
  const sibling: Sibling = {
    value: write.kind === 'delete' ? '' : write.value,
    version: tick(base, ctx.nodeId),
    tombstone: write.kind === 'delete',
    storedAt: ctx.now,
  };
  const siblings = mergeIncoming(ctx.stored, sibling);
  if (!siblings) {
    const newer = ctx.stored.find((s) => isCovered(sibling.version, [s.version]))!;
    throw new StoreError(
      'ERR_VERSION_CONFLICT',
      `item ${id} in keygroup ${keygroup} already has version {${versionText(newer.version)}}, equal to or newer than ` +
        `{${versionText(sibling.version)}} (written concurrently, or deleted); read it again`,
    );
  }
  return { applied: { keygroup, id, sibling: copySibling(sibling) }, siblings };
}

/** Validates a sibling from a peer and returns it in stored form (tombstones carry value ''). */
export function acceptRemote(
  info: KeygroupInfo,
  id: string,
  sibling: Omit<Sibling, 'storedAt'>,
  now: number,
  maxValueBytes: number,
): Sibling {
  validateId(id);
  validateVersion(sibling.version);
  if (sibling.tombstone) {
    if (!info.mutable) {
      throw new StoreError('ERR_WRONG_MUTABILITY', `keygroup ${info.name} is immutable: deletions are not allowed`);
    }
  } else {
    validateValue(sibling.value, maxValueBytes);
  }
  return {
    value: sibling.tombstone ? '' : sibling.value,
    version: { ...sibling.version },
    tombstone: sibling.tombstone,
    storedAt: now,
  };
}

/**
 * FReD PutItem on the receiver: ignored (undefined) if some stored version is equal or newer;
 * otherwise the incoming sibling replaces the siblings it supersedes and joins concurrent ones.
 */
export function mergeIncoming(stored: readonly Sibling[], incoming: Sibling): Sibling[] | undefined {
  const kept: Sibling[] = [];
  for (const s of stored) {
    const ordering = compare(incoming.version, s.version);
    if (ordering === 'before' || ordering === 'equal') return undefined;
    if (ordering === 'concurrent') kept.push(s);
  }
  kept.push(incoming);
  return kept;
}

/** An unambiguous map key for (keygroup, id); both are alphanumeric. */
export function itemRef(keygroup: string, id: string): string {
  return `${keygroup}!${id}`;
}
