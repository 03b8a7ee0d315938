// The enoki:faas world (wit/enoki.wit) as this host binds it without generated glue: the value
// types of each interface, each import's host implementation over the invocation running in
// the instance, and the handler export's type. Keep in step with wit/enoki.wit: the deploy-time
// check (functions/component-check.ts) refuses components whose enoki interface types differ
// from the node's, so what is bound here is exactly what a deployed component uses.

import type { GuestRequest, GuestResponse, InvokeCall, InvokeReply, KvReply, LogStream } from '../protocol.js';
import type { Binding as ImportBinding } from './binding.js';
import { T, type ValType } from './canon.js';
import type { FuncType } from './canon-calls.js';

const version = T.list(T.tuple(T.string, T.u64));
const item = T.record([['id', T.string], ['value', T.string], ['version', version]]);
const entry = T.record([['id', T.string], ['value', T.string]]);
const kvError = T.variant(
  ['invalid-key', 'invalid-value', 'not-found', 'wrong-mutability', 'already-exists', 'too-large', 'unavailable'].map((c) => [c, T.string] as [string, ValType]),
);
const headers = T.list(T.tuple(T.string, T.string));
const request = T.record([['method', T.string], ['path', T.string], ['query', T.string], ['headers', headers], ['body', T.list(T.u8)]]);
const response = T.record([['status', T.u16], ['headers', headers], ['body', T.list(T.u8)]]);
const callError = T.variant(['not-found', 'failed', 'timeout', 'overloaded', 'too-deep', 'unavailable'].map((c) => [c, T.string] as [string, ValType]));

export const HANDLER_INTERFACE = 'enoki:faas/handler@0.1.0';
export const HANDLE_EXPORT = `${HANDLER_INTERFACE}#handle`;
export const HANDLE_TYPE: FuncType = { params: [request], result: T.result(response, T.string) };

const kvResult = (reply: KvReply) => (reply.ok ? { tag: 'ok', val: reply.value } : { tag: 'err', val: { tag: reply.error.tag, val: reply.error.val ?? '' } });

function kvOp(op: string, params: ValType[], ok?: ValType): ImportBinding {
  return {
    type: { params, result: T.result(ok, kvError) },
    suspends: true,
    impl(host, args) {
      const reply = host.kv({ op, args });
      return reply instanceof Promise ? reply.then(kvResult) : kvResult(reply);
    },
  };
}

const callResult = (reply: InvokeReply) => (reply.ok ? { tag: 'ok', val: reply.value } : { tag: 'err', val: reply.error });

function invokeOp(op: InvokeCall['op'], ok: ValType): ImportBinding {
  return {
    type: { params: [T.string, request], result: T.result(ok, callError) },
    suspends: true,
    impl: (host, [fn, req]) => host.invoke({ op, function: fn as string, request: ownRequest(req as GuestRequest) }).then(callResult),
  };
}

/** A request the callee may keep: its body copied off the caller's lifted view. */
function ownRequest(req: GuestRequest): GuestRequest {
  return { method: req.method, path: req.path, query: req.query, headers: req.headers, body: new Uint8Array(req.body) };
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Interface (unversioned) → function name → binding. */
export const ENOKI_IMPORTS: Record<string, Record<string, ImportBinding>> = {
  'enoki:faas/kv': {
    read: kvOp('read', [T.string], T.list(item)),
    get: kvOp('get', [T.string], T.option(T.string)),
    'get-many': kvOp('getMany', [T.list(T.string)], T.list(T.option(T.string))),
    set: kvOp('set', [T.string, T.string]),
    'set-many': kvOp('setMany', [T.list(entry)]),
    delete: kvOp('delete', [T.string]),
    scan: kvOp('scan', [T.string, T.u32], T.list(entry)),
    keys: kvOp('keys', [T.string, T.u32], T.list(T.string)),
    append: kvOp('append', [T.u64, T.string], T.string),
  },
  'enoki:faas/atomics': {
    increment: kvOp('increment', [T.string, T.s64], T.s64),
    'compare-and-swap': kvOp('compareAndSwap', [T.string, T.list(version), T.string], T.bool),
  },
  'enoki:faas/log': {
    write: {
      type: { params: [T.enum(...LOG_LEVELS), T.string] },
      suspends: false,
      impl: (host, [level, message]) => host.log(level as LogStream, message as string),
    },
  },
  'enoki:faas/env': {
    get: {
      type: { params: [T.string], result: T.option(T.string) },
      suspends: false,
      impl: (host, [name]) => host.env().find(([key]) => key === name)?.[1],
    },
    all: { type: { params: [], result: T.list(T.tuple(T.string, T.string)) }, suspends: false, impl: (host) => host.env() },
  },
  'enoki:faas/invoke': {
    call: invokeOp('call', response),
    'call-async': invokeOp('call-async', T.string),
  },
};

/** The binding of an imported function, by the import's interface name (with or without version). */
export function enokiImport(iface: string, name: string): ImportBinding | undefined {
  const unversioned = iface.split('@')[0];
  if (!iface.endsWith('@0.1.0') && iface !== unversioned) return undefined;
  return ENOKI_IMPORTS[unversioned]?.[name];
}

/** The lifted result of `handle`, as the handler returns it. */
export type HandleResult = { tag: 'ok'; val: GuestResponse } | { tag: 'err'; val: string };
