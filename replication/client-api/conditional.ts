// FReD's conditional Update/Delete (the request carries the versions the client has seen), built
// on the ReplicaStore port, which has no compare-and-set of its own.
//
// Rule: the write is rejected unless every live stored version is equal to or an ancestor of one
// of the given versions; the new version is merge(given) + one tick of this node.
//
// How: read the live siblings, check them, then store the new sibling with mergeRemote, which
// (atomically, serialised with every other store write) drops the siblings it supersedes, keeps
// concurrent ones and ignores it if an equal or newer version is stored. A write landing between
// the read and the merge therefore either makes the merge a no-op (reported as a conflict) or
// merges as if it had come right after this one: a remote sibling commutes with ours, and a
// local write has version tick(merge(stored)) ≤ ours, equal (no-op, conflict) unless the client
// gave a tick of this node newer than anything stored here. Only in that last case can a local
// write inside the window be superseded without the check seeing it.
//
// Tombstones and expired siblings are not checked (Read never shows them, so a client could not
// cover them); a tombstone concurrent with the new version stays as a sibling, one that is newer
// makes the write a conflict.
import { StoreError, type AppliedWrite, type ReplicaStore, type Sibling, type Version } from '../store/port.js';
import { compare, merge, tick, versionText } from '../store/version.js';
import { ClientApiError } from './errors.js';

/** Whether `version` is equal to or an ancestor of one of `given` (FReD's coverage test). */
export function isCovered(version: Version, given: readonly Version[]): boolean {
  return given.some((g) => {
    const ordering = compare(version, g);
    return ordering === 'equal' || ordering === 'before';
  });
}

export interface ConditionalWrite {
  keygroup: string;
  id: string;
  /** The new value; undefined writes a tombstone. */
  value: string | undefined;
  /** Versions the client has seen; non-empty. */
  given: readonly Version[];
}

/**
 * Stores the write if the check passes and returns it as the store would (AppliedWrite). The
 * caller has checked that the keygroup is mutable: mergeRemote does not refuse sets on immutable
 * keygroups. storedAt comes from `now`, as mergeRemote does not report the store's timestamp.
 */
export async function writeConditionally(
  store: ReplicaStore,
  write: ConditionalWrite,
  now: () => number,
): Promise<AppliedWrite> {
  const { keygroup, id, value, given } = write;
  const live = await store.read(keygroup, id);
  if (value === undefined && live.length === 0) {
    throw new StoreError('ERR_ITEM_NOT_FOUND', `item ${id} does not exist in keygroup ${keygroup}`);
  }
  const uncovered = live.find((s) => !isCovered(s.version, given));
  if (uncovered) {
    throw new ClientApiError(
      'ERR_VERSION_CONFLICT',
      `item ${id} in keygroup ${keygroup} has version {${versionText(uncovered.version)}}, which none of the given versions ` +
        `(${given.map((v) => `{${versionText(v)}}`).join(', ')}) equals or descends from; read it again`,
    );
  }
  const version = tick(merge(...given), store.nodeId);
  const tombstone = value === undefined;
  const stored = await store.mergeRemote(keygroup, id, { value: value ?? '', version, tombstone });
  if (!stored) {
    throw new ClientApiError(
      'ERR_VERSION_CONFLICT',
      `item ${id} in keygroup ${keygroup} already has a version equal to or newer than {${versionText(version)}} ` +
        '(written concurrently, or deleted); read it again',
    );
  }
  const sibling: Sibling = { value: value ?? '', version, tombstone, storedAt: now() };
  return { keygroup, id, sibling };
}
