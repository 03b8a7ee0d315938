// The BeFaaS context protocol the IoT functions share, ported from OpenFogStack/enoki
// functions/5_befaas-iot/befaas.py.
//
// A request body is a context, {"data": ..., "xpair": ..., "xcontext": ...}: `data` is the
// function's input, `xcontext` names the whole workflow (set by the load generator) and `xpair`
// this one call. The answer is the same context with `data` replaced by the output. A call to
// another function sends the context with a fresh uuid4 `xpair` and the callee's input as `data`.
// State is JSON in the function's keygroup (`dbget`, `dbset`).
//
// The original also printed a timestamped `BEFAAS;...` line at each start, end, call and KV
// operation, from which the paper computed execution times. A guest here has no clock unless
// built with one (and the clock slows every call), so those lines are left out: the node times
// each invocation itself (GET /functions/{name}/logs, `durationMs`), which is the span the
// paper measured between a function's start and end lines.

import { call as invoke, callAsync } from 'enoki:faas/invoke@0.1.0';
import { get, set } from 'enoki:faas/kv@0.1.0';
import { write as log } from 'enoki:faas/log@0.1.0';
import { isDict, truthy } from './python.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The text of a failed host call (its payload is the WIT error variant); anything else is a bug: rethrow. */
function hostError(e) {
  if (e?.payload?.tag) return `${e.payload.tag}: ${e.payload.val}`;
  throw e;
}

/** str(uuid.uuid4()): needs the `random` WASI feature, or every instance draws the same ids. */
export function uuid4() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The request's context; its `data` must be an object (the originals called `.get` on it). */
function start(req) {
  const text = decoder.decode(req.body);
  let ctx;
  try {
    ctx = JSON.parse(text);
  } catch (e) {
    throw `error parsing ctx ${text.slice(0, 200)}: ${e}`;
  }
  if (!isDict(ctx) || !Object.hasOwn(ctx, 'data')) throw `the context has no "data": ${text.slice(0, 200)}`;
  return ctx;
}

/** The answer: the context with `data` replaced (`data or {}`, as Python's `or` did). */
function end(ctx, data) {
  const body = JSON.stringify({ ...ctx, data: truthy(data) ? data : {} });
  return { status: 200, headers: [['content-type', 'application/json']], body: encoder.encode(body) };
}

/**
 * The handler of a BeFaaS function: `fn(inputs, ctx)` gets the context's data and returns the
 * output data (null for none).
 */
export function befaasHandler(fn) {
  return {
    handle(req) {
      const ctx = start(req);
      return end(ctx, fn(ctx.data, ctx));
    },
  };
}

/**
 * Calls `func` with `input` as its data. Asynchronous: returns {} once the call is accepted; a
 * failure is logged and ignored, as the original did. Synchronous: returns the callee's output
 * data; a failure (the call, or an error status) fails this function too, as the original's
 * unbound `response_data` did.
 */
export function call(ctx, func, input, asynchronous = false) {
  const body = JSON.stringify({ ...ctx, xpair: uuid4(), data: input });
  const req = { method: 'POST', path: '/', query: '', headers: [['content-type', 'application/json']], body: encoder.encode(body) };
  if (asynchronous) {
    try {
      callAsync(func, req);
    } catch (e) {
      log('warn', `error calling ${func}: ${hostError(e)}`);
    }
    return {};
  }
  let res;
  try {
    res = invoke(func, req);
  } catch (e) {
    throw `error calling ${func}: ${hostError(e)}`;
  }
  const text = decoder.decode(res.body);
  if (res.status >= 400) throw `error calling ${func}: HTTP ${res.status}: ${text.slice(0, 200)}`;
  try {
    return JSON.parse(text).data;
  } catch (e) {
    log('warn', `error parsing response ${text.slice(0, 200)} from ${func}: ${e}`);
    return undefined;
  }
}

/** The JSON value stored under `key`, or null when there is none or the read fails. */
export function dbget(key) {
  let v;
  try {
    v = get(key);
  } catch (e) {
    log('warn', `error getting ${key} from db (returning None): ${hostError(e)}`);
    return null;
  }
  if (v === undefined || v === null || v === '') return null;
  try {
    return JSON.parse(v);
  } catch {
    log('warn', `error unmarshalling ${v.slice(0, 200)} from db`);
    return v;
  }
}

/** Stores `value` as JSON under `key`; a failed write is logged, as the original did. */
export function dbset(key, value) {
  try {
    set(key, JSON.stringify(value ?? null));
  } catch (e) {
    log('warn', `error setting ${key} in db: ${hostError(e)}`);
  }
}
