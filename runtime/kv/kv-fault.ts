// The typed key-value errors a guest sees (the WIT `kv-error` variant), and the one place where
// store failures become them.

import { StoreError } from '../../replication/store/port.js';

export type KvErrorTag =
  | 'invalid-key'
  | 'invalid-value'
  | 'not-found'
  | 'wrong-mutability'
  | 'already-exists'
  | 'too-large'
  | 'unavailable';

export class KvFault extends Error {
  constructor(
    readonly tag: KvErrorTag,
    message: string,
  ) {
    super(message);
  }
}

const STORE_TO_KV: Record<string, KvErrorTag> = {
  ERR_INVALID_KEY: 'invalid-key',
  ERR_INVALID_VALUE: 'invalid-value',
  ERR_ITEM_NOT_FOUND: 'not-found',
  ERR_ITEM_EXISTS: 'already-exists',
  ERR_WRONG_MUTABILITY: 'wrong-mutability',
};

/** The one place where store failures become guest-visible kv-errors. */
export function toKvFault(err: unknown): KvFault {
  if (err instanceof KvFault) return err;
  if (err instanceof StoreError) return new KvFault(STORE_TO_KV[err.code] ?? 'unavailable', err.message);
  return new KvFault('unavailable', err instanceof Error ? err.message : String(err));
}
