// wasi:http `fields` (headers and trailers), for both engines: an ordered list of name/value
// pairs, names compared without case, values kept as the guest's bytes. Fields handed to a
// request or response, or received with one, are immutable, as the WIT says.

import { CONNECTION_FIELDS, TOKEN } from '../response-fields.js';

const headerError = (tag: 'invalid-syntax' | 'forbidden' | 'immutable') => ({ payload: { tag } });

function validValue(value: Uint8Array): boolean {
  // Field values: visible ASCII, obs-text, spaces and tabs; never CR, LF or NUL (injection).
  for (const byte of value) {
    if (byte === 0x0d || byte === 0x0a || byte === 0x00 || (byte < 0x20 && byte !== 0x09) || byte === 0x7f) return false;
  }
  return true;
}

export function latin1(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
}

export class Fields {
  #entries: [string, Uint8Array][] = [];
  #immutable = false;

  static fromList(entries: [string, Uint8Array][]): Fields {
    const fields = new Fields();
    for (const [name, value] of entries) fields.append(name, value);
    return fields;
  }

  /**
   * Fields the host hands a guest (an incoming request's, an outgoing request's response's),
   * without those about the connection, as wasmtime hands them: the guest may pass on every field
   * it is given (a proxy copying a request's headers into its response must not be refused), and
   * the request's authority is `authority()`, not a `host` field.
   */
  static received(entries: [string, string][]): Fields {
    const fields = new Fields();
    for (const [name, value] of entries) {
      const lower = name.toLowerCase();
      if (!CONNECTION_FIELDS.has(lower)) fields.#entries.push([lower, Buffer.from(value, 'latin1')]);
    }
    fields.#immutable = true;
    return fields;
  }

  /** Makes `fields` immutable (it now belongs to a request or response) and returns it. */
  static lock(fields: Fields): Fields {
    fields.#immutable = true;
    return fields;
  }

  get(name: string): Uint8Array[] {
    const key = name.toLowerCase();
    return this.#entries.filter(([n]) => n.toLowerCase() === key).map(([, v]) => new Uint8Array(v));
  }

  has(name: string): boolean {
    const key = name.toLowerCase();
    return this.#entries.some(([n]) => n.toLowerCase() === key);
  }

  set(name: string, values: Uint8Array[]): void {
    this.#check(name, values);
    const key = name.toLowerCase();
    this.#entries = this.#entries.filter(([n]) => n.toLowerCase() !== key);
    for (const value of values) this.#entries.push([name, new Uint8Array(value)]);
  }

  delete(name: string): void {
    this.#check(name, []);
    const key = name.toLowerCase();
    this.#entries = this.#entries.filter(([n]) => n.toLowerCase() !== key);
  }

  append(name: string, value: Uint8Array): void {
    this.#check(name, [value]);
    this.#entries.push([name, new Uint8Array(value)]);
  }

  entries(): [string, Uint8Array][] {
    return this.#entries.map(([n, v]) => [n, new Uint8Array(v)]);
  }

  clone(): Fields {
    const copy = new Fields();
    copy.#entries = this.entries();
    return copy;
  }

  /** As the host sends them on: lower-case names, values as Latin-1 text (byte for byte). */
  pairs(): [string, string][] {
    return this.#entries.map(([n, v]) => [n.toLowerCase(), latin1(v)]);
  }

  #check(name: string, values: Uint8Array[]): void {
    if (this.#immutable) throw headerError('immutable');
    if (!TOKEN.test(name) || !values.every(validValue)) throw headerError('invalid-syntax');
    if (CONNECTION_FIELDS.has(name.toLowerCase())) throw headerError('forbidden');
  }
}
