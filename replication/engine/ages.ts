// Sibling ages across replicas with different expiries, so replication never resurrects in a loop.
//
// The problem: expiry is per replica and measured from the sibling's local storedAt. Merging a
// sibling on a replica that already expired (and purged) it stores it again with a fresh
// storedAt, and that copy could later be offered back to the first replica, and so on forever.
//
// The rules:
// 1. Every transfer carries the sibling's age: ms since it was first stored anywhere, as far as
//    the sender knows (outbox entries know their write time exactly).
// 2. A replica with expiry E > 0 never stores a sibling whose age is ≥ E: it would already have
//    expired there. Senders skip such siblings too, and anti-entropy between two replicas only
//    compares siblings younger than the smaller of their expiries (the pair's horizon).
// 3. The store stamps merged siblings with the local time, which would make a relayed sibling
//    look young again. The OriginLedger remembers the true origin of siblings this node stored
//    with a known age, until the local copy expires, so the age it reports keeps growing. Hence a
//    sibling's reported age grows with real time everywhere (give or take slackMs), and once it
//    exceeds a replica's expiry nobody offers it to that replica and that replica accepts it from
//    nobody: re-stores stop for good instead of looping. A late delivery may still show an item
//    on the late replica for up to its expiry from arrival (the store's stamp), once. The ledger
//    is in memory: after a restart, ages fall back to local storedAt (possibly one more re-store
//    per restart). An origin-preserving mergeRemote in the store would make this exact and durable.
import { versionText } from '../store/version.js';
import type { Version } from '../store/port.js';

/** True when a replica with this expiry (seconds, 0 = never) should hold a sibling of this age. */
export function admits(expirySeconds: number, age: number): boolean {
  return expirySeconds <= 0 || age < expirySeconds * 1000;
}

/** The pair horizon in ms: the smaller non-zero expiry of two replicas; 0 when neither expires. */
export function horizonOf(a: number, b: number): number {
  const nonZero = [a, b].filter((e) => e > 0);
  return nonZero.length === 0 ? 0 : Math.min(...nonZero) * 1000;
}

const key = (keygroup: string, id: string, version: Version) => `${keygroup}!${id}!${versionText(version)}`;

export class OriginLedger {
  private readonly origins = new Map<string, { origin: number; forgetAt: number }>();

  /**
   * @param slackMs ages below this are not recorded: normal replication delay is not worth an
   *   entry, and reported ages may be that much too young.
   */
  constructor(private readonly slackMs = 1000) {}

  /** Notes that a sibling this node just stored was first stored `age` ms before `now`. */
  record(keygroup: string, id: string, version: Version, now: number, age: number, expirySeconds: number): void {
    if (expirySeconds <= 0 || age <= this.slackMs) return;
    // Needed as long as the local copy is visible: it expires expiry after *now* (the store
    // stamps merges with the local time), not after the origin.
    this.origins.set(key(keygroup, id, version), { origin: now - age, forgetAt: now + expirySeconds * 1000 });
  }

  /** Age of a stored sibling: since the earlier of its local storedAt and its recorded origin. */
  ageOf(keygroup: string, id: string, sibling: { version: Version; storedAt: number }, now: number): number {
    const recorded = this.origins.size === 0 ? undefined : this.origins.get(key(keygroup, id, sibling.version));
    const origin = recorded ? Math.min(recorded.origin, sibling.storedAt) : sibling.storedAt;
    return Math.max(0, now - origin);
  }

  /** Drops entries of siblings whose local copy has expired (the store no longer offers them). */
  sweep(now: number): void {
    for (const [k, { forgetAt }] of this.origins) if (forgetAt <= now) this.origins.delete(k);
  }

  forgetKeygroup(keygroup: string): void {
    const prefix = `${keygroup}!`;
    for (const k of this.origins.keys()) if (k.startsWith(prefix)) this.origins.delete(k);
  }

  get size(): number {
    return this.origins.size;
  }
}
