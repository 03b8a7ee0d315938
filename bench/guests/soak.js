// soak: the guest of the reply-correctness soak (bench/soak.ts). Deployed under several names,
// each with its own keygroup and FN=<name> in its environment. A request `?client=K&ops=M` is
// one step of client K's sequence in this function:
//   - its counter `cK` holds "<fn>:<K>:<n>"; the step writes n+1;
//   - M scratch items `sKxI` are written with "<fn>:<K>:<n+1>:<I>" and read back at once (the
//     invocation's own writes), and M items `tKxI`, written by the previous step, are read and
//     then rewritten for the next one;
// so one step makes 2 + 4·M KV calls. Every value read is checked against what this function
// and this client must have written; anything else is reported in `anomalies`, which the soak
// counts. `/loop` never returns (the soak deploys it with a short timeout).

import { get, getMany, set } from 'enoki:faas/kv@0.1.0';
import { get as envGet } from 'enoki:faas/env@0.1.0';

const encoder = new TextEncoder();

function json(status, value) {
  return { status, headers: [['content-type', 'application/json']], body: encoder.encode(JSON.stringify(value)) };
}

function param(query, name) {
  const m = new RegExp(`(?:^|&)${name}=([0-9]+)`).exec(query);
  return m ? Number(m[1]) : undefined;
}

export const handler = {
  handle(req) {
    if (req.path === '/loop') {
      for (;;) {
        // spins until the node ends the call
      }
    }
    const fn = envGet('FN') ?? '?';
    const client = param(req.query, 'client') ?? 0;
    const ops = param(req.query, 'ops') ?? 10;
    const anomalies = [];
    const own = `${fn}:${client}:`;

    const counter = get(`c${client}`);
    let n = 0;
    if (counter !== undefined) {
      if (!counter.startsWith(own)) anomalies.push(`counter holds "${counter}"`);
      n = Number(counter.slice(counter.lastIndexOf(':') + 1));
    }
    const next = n + 1;
    set(`c${client}`, `${own}${next}`);

    const scratch = [];
    for (let i = 0; i < ops; i++) {
      const value = `${own}${next}:${i}`;
      set(`s${client}x${i}`, value);
      const back = get(`s${client}x${i}`);
      if (back !== value) anomalies.push(`own write s${client}x${i} read back as "${back}"`);
      scratch.push(`t${client}x${i}`);
    }
    const previous = getMany(scratch);
    for (let i = 0; i < ops; i++) {
      const expected = `${own}${n}:${i}`;
      const seen = previous[i];
      // The first step of a client finds nothing; every later one finds the previous step's.
      if (!(n === 0 ? seen === undefined : seen === expected)) anomalies.push(`t${client}x${i} holds "${seen}", expected "${expected}"`);
      set(`t${client}x${i}`, `${own}${next}:${i}`);
    }
    return json(200, { fn, client, n: next, anomalies });
  },
};
