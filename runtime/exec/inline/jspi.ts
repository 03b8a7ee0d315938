// JavaScript Promise Integration (WebAssembly.Suspending / WebAssembly.promising): on by default
// from Node 24 (V8 13.6). Absent on Node 20 and 22, where guests run on worker threads instead.

type Suspending = new (fn: (...args: never[]) => unknown) => object;
type Promising = <F extends (...args: never[]) => unknown>(fn: F) => (...args: Parameters<F>) => Promise<unknown>;

const api = WebAssembly as unknown as { Suspending?: Suspending; promising?: Promising };

export const hasJspi = typeof api.Suspending === 'function' && typeof api.promising === 'function';

/** Wraps a host function so that a guest calling it waits, without blocking, for its promise. */
export function suspending(fn: (...args: never[]) => unknown): object {
  if (!api.Suspending) throw new Error('this Node has no WebAssembly.Suspending (JSPI)');
  return new api.Suspending(fn);
}

/** Wraps a guest export so that calling it returns a promise and the guest may suspend. */
export function promising(fn: (...args: never[]) => unknown): (...args: unknown[]) => Promise<unknown> {
  if (!api.promising) throw new Error('this Node has no WebAssembly.promising (JSPI)');
  return api.promising(fn) as (...args: unknown[]) => Promise<unknown>;
}
