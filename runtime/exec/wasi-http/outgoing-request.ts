// A wasi:http guest's outgoing request as both engines build it: the head the guest sets (each
// setter's check), the request the invoker sends (invoke/outgoing-http.ts), and when it is sent:
// once the body, if the guest took one, is finished.

import type { ErrorCode, OutgoingHttpRequest, OutgoingHttpResult, RequestTimeouts } from '../protocol.js';

/** A method or scheme as the WIT variant gives it: a case, or `other` with its text. */
export type Tagged = { tag: string; val?: string };

/** Where an outgoing body's bytes go; the body buffers until it has one. */
export interface BodyTarget {
  chunk(bytes: Uint8Array): void;
  end(): void;
  fail(reason: string): void;
  /** Bytes the writer may write now; absent: as many as it likes (within its body's own limit). */
  permit?(): number;
  /** Resolves once permit() is above 0. */
  whenPermitted?(): Promise<void>;
  /** Whether the reader has gone: writes fail as `closed`. */
  closed?(): boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*$/;
const VISIBLE = /^[\x21-\x7e]*$/;

/** What the guest set of the request's head; each setter refuses (false) what HTTP would not carry. */
export class RequestHead {
  method: Tagged = { tag: 'get' };
  scheme?: Tagged;
  authority?: string;
  pathWithQuery?: string;

  setMethod(method: Tagged): boolean {
    if (method.tag === 'other' && !TOKEN.test(method.val ?? '')) return false;
    this.method = method;
    return true;
  }

  setPathWithQuery(value: string | undefined): boolean {
    if (value !== undefined && !VISIBLE.test(value)) return false;
    this.pathWithQuery = value;
    return true;
  }

  setScheme(value: Tagged | undefined): boolean {
    if (value?.tag === 'other' && !SCHEME.test(value.val ?? '')) return false;
    this.scheme = value;
    return true;
  }

  setAuthority(value: string | undefined): boolean {
    if (value !== undefined && (value === '' || !VISIBLE.test(value))) return false;
    this.authority = value;
    return true;
  }

  /** The request as the invoker sends it, or the error-code it fails with at once. */
  request(headers: [string, string][], timeouts?: RequestTimeouts): { request: OutgoingHttpRequest } | { error: ErrorCode } {
    const scheme = this.scheme === undefined ? 'https' : this.scheme.tag === 'other' ? (this.scheme.val ?? '') : this.scheme.tag.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') return { error: { tag: 'HTTP-protocol-error' } };
    if (!this.authority) return { error: { tag: 'HTTP-request-URI-invalid' } };
    let url: URL;
    try {
      url = new URL(`${scheme}://${this.authority}${this.pathWithQuery ?? '/'}`);
    } catch {
      return { error: { tag: 'HTTP-request-URI-invalid' } };
    }
    const method = this.method.tag === 'other' ? (this.method.val ?? '') : this.method.tag.toUpperCase();
    return { request: timeouts ? { method, url: url.href, headers, timeouts } : { method, url: url.href, headers } };
  }
}

/** The request-options a guest set (WIT durations, ns), as the invoker applies them. */
export function requestTimeouts(options: { connect?: bigint; firstByte?: bigint; betweenBytes?: bigint } | undefined): RequestTimeouts | undefined {
  if (!options) return undefined;
  const ms = (ns: bigint | undefined) => (ns === undefined ? undefined : Number(ns) / 1e6);
  return { connectMs: ms(options.connect), firstByteMs: ms(options.firstByte), betweenBytesMs: ms(options.betweenBytes) };
}

/**
 * Starts the request described by `head` and `headers` through `fetch` (the engine's way to the
 * invoker's outgoing HTTP), at once or, when the guest took a body, once that body is finished
 * (it may write it after handing the request over); `settle` hears the answer, or why there is none.
 */
export function sendOutgoing(
  described: ReturnType<RequestHead['request']>,
  body: { attach(target: BodyTarget): void } | undefined,
  fetch: (request: OutgoingHttpRequest, done: (result: OutgoingHttpResult) => void) => void,
  settle: (result: OutgoingHttpResult) => void,
): void {
  if ('error' in described) return settle({ ok: false, error: described.error });
  const send = (bytes?: Uint8Array) => fetch(bytes ? { ...described.request, body: bytes } : described.request, settle);
  if (!body) return send();
  const chunks: Uint8Array[] = [];
  body.attach({
    chunk: (bytes) => chunks.push(bytes),
    end: () => send(Buffer.concat(chunks)),
    fail: (reason) => settle({ ok: false, error: { tag: 'internal-error', val: `the request body failed: ${reason}` } }),
  });
}
