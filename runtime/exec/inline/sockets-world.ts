// wasi:sockets 0.2.x as this host binds it: a network with no way out. Guests get their network
// handle, and every attempt to use it (creating a TCP or UDP socket, resolving a name) answers
// `not-supported`, as preview2-shim's sockets do for guests on a worker, so the guest's own
// error handling runs (Python raises OSError). No socket or name lookup can exist, so their
// methods trap if a guest reaches them anyway.

import { isWasi02, WASI_SOCKETS } from '../../functions/worlds.js';
import { as, err, plain, type Binding } from './binding.js';
import { T } from './canon.js';
import { IoError } from './streams.js';

/** The one network a guest may name; it reaches nothing. */
export class NoNetwork {}

const errorCode = T.enum(
  'unknown',
  'access-denied',
  'not-supported',
  'invalid-argument',
  'out-of-memory',
  'timeout',
  'concurrency-conflict',
  'not-in-progress',
  'would-block',
  'invalid-state',
  'new-socket-limit',
  'address-not-bindable',
  'address-in-use',
  'remote-unreachable',
  'connection-refused',
  'connection-reset',
  'connection-aborted',
  'datagram-too-large',
  'name-unresolvable',
  'temporary-resolver-failure',
  'permanent-resolver-failure',
);
const family = T.enum('ipv4', 'ipv6');
const refused = () => err('not-supported');

const SOCKETS: Record<string, Record<string, Binding>> = {
  'wasi:sockets/instance-network': { 'instance-network': plain({ params: [], result: T.own }, () => new NoNetwork()) },
  // The host's streams fail with no network error code.
  'wasi:sockets/network': { 'network-error-code': plain({ params: [T.borrow], result: T.option(errorCode) }, (_h, [e]) => (as(IoError, e), undefined)) },
  'wasi:sockets/tcp-create-socket': { 'create-tcp-socket': plain({ params: [family], result: T.result(T.own, errorCode) }, refused) },
  'wasi:sockets/udp-create-socket': { 'create-udp-socket': plain({ params: [family], result: T.result(T.own, errorCode) }, refused) },
  'wasi:sockets/ip-name-lookup': {
    'resolve-addresses': plain({ params: [T.borrow, T.string], result: T.result(T.own, errorCode) }, (_h, [n]) => (as(NoNetwork, n), refused())),
  },
};

/** A method of a socket or lookup, none of which can exist: it traps, whatever its signature. */
function unreachable(iface: string, name: string): Binding {
  return {
    type: { params: [] },
    suspends: false,
    raw: true,
    impl: () => {
      throw new Error(`the guest called ${iface}#${name} without a socket (this node gives guests no network)`);
    },
  };
}

/** The binding of a wasi:sockets 0.2.x function; undefined for any other import. */
export function socketsImport(iface: string, name: string): Binding | undefined {
  const [bare, version] = iface.split('@');
  if (!WASI_SOCKETS.has(bare) || !isWasi02(version)) return undefined;
  return SOCKETS[bare]?.[name] ?? unreachable(bare, name);
}
