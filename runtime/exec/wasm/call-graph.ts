// Which function entries of a metered module get a check (code.ts injects it). Loop tops are
// always checked; what remains is code that runs long without a loop, and that takes calls:
//   - a cycle of calls (recursion, direct or through a table) can run without end, or for 2^n
//     calls at a depth of n, which never overflows the stack: every function on a cycle is
//     checked at its entry;
//   - a call tree without cycles can still fan out exponentially (f0 calls f1 twice, f1 calls f2
//     twice...): each function's cost is counted as its own instructions plus, per call site, the
//     cost of an unchecked callee, and a function whose cost passes ENTRY_BUDGET is checked (a
//     checked callee costs its caller nothing: it checks on its own);
//   - a call that leaves the module (to an import, or through a table or reference the host or
//     another module may fill) can come back into it anywhere: its caller is checked.
// Between two checks a guest then runs at most a bounded stretch of straight code per frame it
// returns through, whatever its input; small helpers, the bulk of a compiler's calls, stay free.

import { Reader } from './binary.js';
import { expressionRefs, type BodyFacts } from './code.js';
import { REF_TYPES, SECTION, skipValType, type ModuleReader } from './module.js';

/** Instructions a call tree may run without a check: a few microseconds of straight code. */
export const ENTRY_BUDGET = 1000;

/** What the decision needs from outside the code section. */
export interface ModuleFacts {
  importedFuncs: number;
  /** The type index of every function, imported ones first. */
  funcTypes: number[];
  /** A key per type index; equal keys mean equal signatures (what call_indirect compares). */
  typeKeys: string[];
  /** Functions put in tables or global references outside the code (element segments, globals). */
  refs: number[];
  /**
   * No table, funcref or externref crosses the module's boundary: every function an indirect call
   * can reach is one of the module's own, taken by ref.func. Otherwise any indirect call may
   * leave the module.
   */
  closed: boolean;
  /** Functions the host or another module calls: exports and the start function. */
  entries: number[];
}

/** The facts: what ModuleReader read, and the function, export, start, element and global sections. */
export function readModuleFacts(m: ModuleReader): ModuleFacts {
  const typeKeys = m.typeKeys;
  const typeHasRefs = typeKeys.map((key) => [...key].some((c) => REF_TYPES.has(c.charCodeAt(0))));
  const funcTypes = [...m.importFuncTypes];
  const refs: number[] = [];
  const entries: number[] = [];
  let closed = !m.importsReferences && !funcTypes.some((type) => typeHasRefs[type]);
  for (const s of m.sections) {
    const r = new Reader(m.bytes, s.start, s.end);
    if (s.id === SECTION.func) {
      for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
    } else if (s.id === SECTION.export) {
      for (let n = r.u32(); n > 0; n--) {
        r.name();
        const kind = r.u8();
        const index = r.u32();
        if (kind === 0x01 || kind === 0x03) closed = false; // a table, or a global the host could set to a reference
        if (kind === 0x00 && typeHasRefs[funcTypes[index]]) closed = false;
        if (kind === 0x00) entries.push(index);
      }
    } else if (s.id === SECTION.start) {
      entries.push(r.u32());
    } else if (s.id === SECTION.global) {
      for (let n = r.u32(); n > 0; n--) {
        skipValType(r);
        r.u8();
        refs.push(...expressionRefs(r));
      }
    } else if (s.id === SECTION.element) refs.push(...elementRefs(r));
  }
  return { importedFuncs: m.importedFuncs, funcTypes, typeKeys, refs, closed, entries };
}

/** Every function an element section names. */
function elementRefs(r: Reader): number[] {
  const refs: number[] = [];
  for (let n = r.u32(); n > 0; n--) {
    const flags = r.u32();
    const exprs = (flags & 0x04) !== 0;
    if ((flags & 0x01) === 0) {
      if (flags & 0x02) r.u32();
      expressionRefs(r);
    }
    if (flags & 0x03) {
      if (exprs) skipValType(r);
      else r.u8();
    }
    for (let items = r.u32(); items > 0; items--) {
      if (exprs) refs.push(...expressionRefs(r));
      else refs.push(r.u32());
    }
  }
  return refs;
}

/** A 1 for every defined function whose entry gets a check; see the top of this file. */
export function entryChecks(module: ModuleFacts, bodies: BodyFacts[], budget = ENTRY_BUDGET): Uint8Array {
  const { importedFuncs, funcTypes, typeKeys } = module;
  const defined = bodies.length;
  // Nodes: the defined functions, then one per signature that indirect calls use.
  const signatures = new Map<string, number>();
  const signatureOf = (type: number) => {
    const key = typeKeys[type];
    let node = signatures.get(key);
    if (node === undefined) signatures.set(key, (node = defined + signatures.size));
    return node;
  };
  // Functions referenced anywhere can be called indirectly; an imported one among them takes
  // the calls of its signature out of the module.
  const taken = new Set(module.refs);
  for (const facts of bodies) for (const ref of facts.refs) taken.add(ref);
  const leaving = new Set<string>();
  for (const ref of taken) if (ref < importedFuncs) leaving.add(typeKeys[funcTypes[ref]]);
  const exits = new Uint8Array(defined); // calls out of the module: checked whatever else holds
  const next: number[][] = [];
  for (let f = 0; f < defined; f++) {
    const facts = bodies[f];
    const out: number[] = [];
    for (const callee of facts.calls) {
      if (callee < importedFuncs) exits[f] = 1;
      else out.push(callee - importedFuncs);
    }
    for (const type of facts.indirect) {
      if (!module.closed || leaving.has(typeKeys[type])) exits[f] = 1;
      else out.push(signatureOf(type));
    }
    next.push(out);
  }
  const targets: number[][] = Array.from({ length: signatures.size }, () => []);
  for (const ref of taken) {
    const node = signatures.get(typeKeys[funcTypes[ref]]);
    if (node !== undefined && ref >= importedFuncs) targets[node - defined].push(ref - importedFuncs);
  }
  for (const list of targets) next.push(list);

  const checked = breakCycles(next, defined, exits, module.entries.filter((f) => f >= importedFuncs).map((f) => f - importedFuncs));
  // What is left unchecked has no cycle: count costs callees first; a checked callee costs nothing.
  const cost = new Float64Array(next.length);
  const over = budget + 1;
  const unchecked = next.map((out) => out.filter((w) => w >= defined || !checked[w]));
  for (const scc of components(unchecked)) {
    for (const node of scc) {
      if (node >= defined || checked[node]) continue;
      let c = bodies[node].instructions;
      // (A callee the budget checked after `unchecked` was made costs nothing either.)
      for (const callee of unchecked[node]) c += callee < defined && checked[callee] ? 0 : cost[callee];
      cost[node] = Math.min(c, over);
      // A component with a cycle cannot be left by breakCycles; should one be, it is checked.
      if (c > budget || scc.length > 1) checked[node] = 1;
    }
    // A signature's cost: its most expensive unchecked target.
    for (const node of scc) {
      if (node < defined) continue;
      let c = 0;
      for (const target of unchecked[node]) if (!checked[target]) c = Math.max(c, cost[target]);
      cost[node] = c;
    }
  }
  return checked;
}

/**
 * Functions whose checks break every cycle of calls that does not pass through one of `exits`
 * (checked anyway): a depth-first search from the module's entries, then from every other node,
 * finds a back edge on every cycle, and one end of each back edge is checked. The end it takes is
 * the callee when that is a function: the search comes from the entries, so the callee is the
 * outer function of a recursion (an interpreter's main function, say) rather than the small
 * helper it calls often; when the callee is a signature (an indirect call), it is the caller.
 */
function breakCycles(next: number[][], defined: number, exits: Uint8Array, entries: number[]): Uint8Array {
  const checked = Uint8Array.from(exits);
  const state = new Uint8Array(next.length); // 0 not seen, 1 on the search's path, 2 done
  const work: number[] = []; // pairs: node, position in its successor list
  const roots = [...entries, ...next.keys()];
  for (const root of roots) {
    if (state[root] !== 0 || (root < defined && exits[root])) continue;
    state[root] = 1;
    work.push(root, 0);
    while (work.length > 0) {
      const pos = work.pop()!;
      const v = work.pop()!;
      const succ = next[v];
      let i = pos;
      for (; i < succ.length; i++) {
        const w = succ[i];
        if (w < defined && exits[w]) continue;
        if (state[w] === 1) checked[w < defined ? w : v] = 1;
        else if (state[w] === 0) break;
      }
      if (i < succ.length) {
        const w = succ[i];
        state[w] = 1;
        work.push(v, i + 1, w, 0);
      } else state[v] = 2;
    }
  }
  return checked;
}

/**
 * The strongly connected components of a graph, callees before callers (Tarjan's algorithm,
 * without recursion: a module may have a hundred thousand functions).
 */
export function components(next: number[][]): number[][] {
  const n = next.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const out: number[][] = [];
  const work: number[] = []; // pairs: node, position in its successor list
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    work.push(root, 0);
    while (work.length > 0) {
      const pos = work.pop()!;
      const v = work.pop()!;
      if (pos === 0) {
        index[v] = low[v] = counter++;
        stack.push(v);
        onStack[v] = 1;
      }
      let descended = false;
      const succ = next[v];
      for (let i = pos; i < succ.length; i++) {
        const w = succ[i];
        if (index[w] === -1) {
          work.push(v, i + 1, w, 0);
          descended = true;
          break;
        }
        if (onStack[w]) low[v] = Math.min(low[v], index[w]);
      }
      if (descended) continue;
      if (low[v] === index[v]) {
        const scc: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          scc.push(w);
        } while (w !== v);
        out.push(scc);
      }
      if (work.length > 0) {
        const parent = work[work.length - 2];
        low[parent] = Math.min(low[parent], low[v]);
      }
    }
  }
  return out;
}
