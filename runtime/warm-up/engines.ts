// Warming up the engines deployed functions run on. Every JS function built by componentize-js
// runs on one 12 MB StarlingMonkey engine, compiled once per node as a shared template; its first
// call after a start has V8 compile that template and, as the call goes, the engine's functions it
// reaches: ~45 ms on the bench machine, paid by whichever JS function is called first. Before it
// listens, the node therefore runs one function of each such engine once, on an instance then
// thrown away, with a request of no content and a host that refuses everything (inline-engine.ts
// warmEngine): the compiled code stays, the instance does not. That is once per engine, not per
// function: ten JS functions cost one such call. Keeping a warm instance of every function is
// prewarming's (ENOKI_PREWARM), which goes on after the node listens.
//
// Within a time budget, so that a node with many engines, or a function that loops on an empty
// request, still listens soon: each call gets what is left of the budget, and the engines not
// reached by then are compiled by their first call.

/** Time a start spends warming engines at most (plus one compile that runs past it). */
export const ENGINE_WARM_BUDGET_MS = 1_000;

export interface EngineWarmTarget {
  /** Resolves true when it ran the function to warm its engine (Invoker.warmEngine). */
  warmEngine(name: string, limitMs: number): Promise<boolean>;
}

export interface EnginesWarmed {
  /** Engines warmed (functions run). */
  engines: number;
  /** Functions whose engine was warmed only if the budget had not run out. */
  skipped: number;
  /** Functions that could not be loaded to warm their engine (their first call says why). */
  failed: number;
  ms: number;
}

export async function warmEngines(target: EngineWarmTarget, names: readonly string[], budgetMs: number): Promise<EnginesWarmed> {
  const started = performance.now();
  const result: EnginesWarmed = { engines: 0, skipped: 0, failed: 0, ms: 0 };
  for (const [i, name] of names.entries()) {
    const left = budgetMs - (performance.now() - started);
    if (left <= 0) {
      result.skipped = names.length - i;
      break;
    }
    try {
      if (await target.warmEngine(name, left)) result.engines++;
    } catch {
      result.failed++;
    }
  }
  result.ms = performance.now() - started;
  return result;
}
