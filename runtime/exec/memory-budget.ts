// Keeps the linear memory of warm instances under a budget (ENOKI_INSTANCE_MEMORY_BUDGET_MIB),
// for either engine: while over it, the least recently used instance that is not in a call goes.

export interface WarmCandidate {
  lastUsed: number;
  /** Its memory, read only for the one evicted. */
  bytes(): number;
  evict(): void;
}

/** Evicts candidates, least recently used first, until `totalBytes` is within `budgetBytes` or none is left. */
export function evictOverBudget(totalBytes: number, budgetBytes: number, candidates: () => Iterable<WarmCandidate>): void {
  let total = totalBytes;
  while (total > budgetBytes) {
    let victim: WarmCandidate | undefined;
    for (const c of candidates()) if (!victim || c.lastUsed < victim.lastUsed) victim = c;
    if (!victim) return;
    total -= victim.bytes();
    victim.evict();
  }
}
