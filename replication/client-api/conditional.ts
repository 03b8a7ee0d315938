// FReD's conditional Update/Delete (the request carries the versions the client has seen), as
// the client API hands it to the ReplicaStore.
//
// Rule: the write is rejected unless every live stored version is equal to or an ancestor of one
// of the given versions; the new version is merge(given) + one tick of this node. The store
// checks and writes in one step, serialised with every other write to it
// (ReplicaStore.applyConditional), so no write can slip in between the check and the write.
//
// Tombstones and expired siblings need no cover (Read never shows them, so a client could not
// cover them); a tombstone concurrent with the new version stays as a sibling, one that is equal
// or newer makes the write a conflict. Conflicts are StoreError ERR_VERSION_CONFLICT
// (FAILED_PRECONDITION on the wire).
import type { AppliedWrite, ReplicaStore, Version } from '../store/port.js';

/** Whether `version` is equal to or an ancestor of one of `given`; Read's version filter uses it. */
export { isCovered } from '../store/version.js';

export interface ConditionalWrite {
  keygroup: string;
  id: string;
  /** The new value; undefined writes a tombstone. */
  value: string | undefined;
  /** Versions the client has seen; non-empty. */
  given: readonly Version[];
}

/**
 * Stores the write if the check passes and returns what the store applied (storedAt from the
 * store's clock). The store also refuses conditional writes to immutable keygroups.
 *
 * `_now` is no longer used (the store reports storedAt itself); it stays so existing callers
 * compile and can be dropped once they stop passing it.
 */
export async function writeConditionally(
  store: ReplicaStore,
  write: ConditionalWrite,
  _now?: () => number,
): Promise<AppliedWrite> {
  const { keygroup, id, value, given } = write;
  return store.applyConditional(
    value === undefined ? { kind: 'delete', keygroup, id } : { kind: 'set', keygroup, id, value },
    [...given],
  );
}
