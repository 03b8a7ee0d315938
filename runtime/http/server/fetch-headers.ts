// The Fetch API's Headers, as the node's HTTP server installs it (see fetch-globals.ts): names
// case-insensitive, values of one name joined with ", " except set-cookie, iteration sorted by
// name. It holds what Hono and the node's routes need of a Headers object, without loading undici.

/** RFC 9110 token characters: what a header name may hold. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A value may not hold NUL, CR or LF (header injection). */
export const BAD_VALUE = /[\0\r\n]/;
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

export type HeadersLike = Iterable<readonly [string, string]> | Record<string, string | readonly string[]>;

function checkedName(name: string): string {
  const s = String(name);
  if (!HEADER_NAME.test(s)) throw new TypeError(`invalid header name: ${JSON.stringify(s)}`);
  return s.toLowerCase();
}

function checkedValue(value: string): string {
  const s = String(value).replace(EDGE_WHITESPACE, '');
  if (BAD_VALUE.test(s)) throw new TypeError('invalid header value');
  return s;
}

export class FetchHeaders {
  // One joined value per lowercase name; set-cookie keeps its values apart.
  #values = new Map<string, string>();
  #cookies: string[] = [];

  constructor(init?: HeadersLike | null) {
    if (init === undefined || init === null) return;
    if (init instanceof FetchHeaders) {
      this.#values = new Map(init.#values);
      this.#cookies = [...init.#cookies];
    } else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair.length !== 2) throw new TypeError('a header must be a [name, value] pair');
        this.append(pair[0], pair[1]);
      }
    } else if (typeof init === 'object') {
      const record = init as Record<string, string | readonly string[]>;
      for (const name of Object.keys(record)) {
        const value = record[name];
        // Node's own header objects hold arrays for repeated names.
        if (Array.isArray(value)) for (const one of value) this.append(name, one);
        else this.append(name, value as string);
      }
    } else {
      throw new TypeError('headers must be an object or an iterable of pairs');
    }
  }

  append(name: string, value: string): void {
    const key = checkedName(name);
    const v = checkedValue(value);
    if (key === 'set-cookie') {
      this.#cookies.push(v);
      return;
    }
    const seen = this.#values.get(key);
    this.#values.set(key, seen === undefined ? v : `${seen}, ${v}`);
  }

  set(name: string, value: string): void {
    const key = checkedName(name);
    const v = checkedValue(value);
    if (key === 'set-cookie') this.#cookies = [v];
    else this.#values.set(key, v);
  }

  delete(name: string): void {
    const key = checkedName(name);
    if (key === 'set-cookie') this.#cookies = [];
    else this.#values.delete(key);
  }

  get(name: string): string | null {
    const key = checkedName(name);
    if (key === 'set-cookie') return this.#cookies.length > 0 ? this.#cookies.join(', ') : null;
    return this.#values.get(key) ?? null;
  }

  has(name: string): boolean {
    const key = checkedName(name);
    return key === 'set-cookie' ? this.#cookies.length > 0 : this.#values.has(key);
  }

  getSetCookie(): string[] {
    return [...this.#cookies];
  }

  forEach(callback: (value: string, name: string, headers: FetchHeaders) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  *entries(): IterableIterator<[string, string]> {
    const names = [...this.#values.keys()];
    if (this.#cookies.length > 0) names.push('set-cookie');
    names.sort();
    for (const name of names) {
      if (name === 'set-cookie') for (const cookie of this.#cookies) yield [name, cookie];
      else yield [name, this.#values.get(name)!];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }

  /**
   * The headers as Node's `writeHead` takes them: lowercase names, set-cookie as an array. For
   * the server's writer; not part of the Fetch API.
   */
  toNodeHeaders(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = Object.fromEntries(this.#values);
    if (this.#cookies.length > 0) out['set-cookie'] = [...this.#cookies];
    return out;
  }
}
