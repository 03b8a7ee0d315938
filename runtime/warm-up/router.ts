// The node's route table, matched before it listens. Hono's router turns the routes of a method
// into one regular expression at the first request of that method with a path that has
// parameters (static paths such as /healthz are looked up without it), and V8 runs a regular
// expression from bytecode at first and compiles it to machine code at its second run: a node's
// first two calls of a function each paid ~0.1 ms for that. Matching is all this does: no handler
// runs, nothing is answered.

import type { Hono } from 'hono';

/** Methods functions are commonly called with, and the management API uses. */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
/** A path with parameters (an invocation's), so that the method's expression is built and run. */
const PATH = '/fn/warm-up';
/** Built at the first match, run from bytecode at the first and compiled at the second. */
const MATCHES = 3;

export function warmRouter(app: Pick<Hono, 'router'>): void {
  for (const method of METHODS) for (let i = 0; i < MATCHES; i++) app.router.match(method, PATH);
}
