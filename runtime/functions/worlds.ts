// The worlds a node runs and what each may import, by interface name and version. Enoki's own
// world (enoki:faas/function) exports `handler`; the standard wasi:http/proxy world exports
// wasi:http/incoming-handler. WASI interfaces are matched by semver compatibility: 0.2.x of any
// patch, since toolchains mix them (componentize-js 0.23 exports incoming-handler@0.2.10 and
// imports other interfaces at 0.2.12). wasi:keyvalue is a draft with breaking drafts, so its
// version must be exactly the one this node implements.

export const ENOKI_WORLD = 'enoki:faas/function';
export const HTTP_WORLD = 'wasi:http/proxy';
export type WorldName = typeof ENOKI_WORLD | typeof HTTP_WORLD;

/** Artefacts written before worlds existed have none: they are of Enoki's world. */
export function worldOf(meta: { world?: WorldName }): WorldName {
  return meta.world ?? ENOKI_WORLD;
}

export const ENOKI_HANDLER_EXPORT = 'enoki:faas/handler@0.1.0';
export const KEYVALUE_VERSION = '0.2.0-draft';

export interface InterfaceName {
  /** `wasi:http` */
  pkg: string;
  /** `types` */
  iface: string;
  version?: string;
}

/** `wasi:http/types@0.2.10` → its parts; undefined for a name that is not an interface's. */
export function parseInterfaceName(name: string): InterfaceName | undefined {
  const match = /^([a-z][a-z0-9-]*:[a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)(?:@(.+))?$/.exec(name);
  return match ? { pkg: match[1], iface: match[2], version: match[3] } : undefined;
}

/** 0.2.x without a pre-release tag: the WASI 0.2 line, whose patches only add. */
export function isWasi02(version: string | undefined): boolean {
  return version === undefined || /^0\.2\.\d+$/.test(version);
}

/** The sandboxed WASI subset every guest may import (see exec/worker/wasi.ts and exec/inline/wasi-world.ts for what each does). */
export const WASI_BASE = new Set([
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:filesystem/preopens',
  'wasi:filesystem/types',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
  'wasi:clocks/monotonic-clock',
  'wasi:clocks/wall-clock',
]);

/**
 * wasi:sockets, which toolchains import whether or not the guest opens a socket (componentize-py's
 * CPython does): accepted, and bound to a network that has no way out (creating a socket or
 * resolving a name answers `not-supported`; exec/inline/sockets-world.ts, exec/worker/wasi.ts).
 */
export const WASI_SOCKETS = new Set([
  'wasi:sockets/network',
  'wasi:sockets/instance-network',
  'wasi:sockets/tcp',
  'wasi:sockets/tcp-create-socket',
  'wasi:sockets/udp',
  'wasi:sockets/udp-create-socket',
  'wasi:sockets/ip-name-lookup',
]);

const ENOKI_INTERFACES = new Set(['kv', 'atomics', 'log', 'env', 'invoke', 'types']);
const KEYVALUE_INTERFACES = new Set(['store', 'atomics', 'batch']);
const HTTP_IMPORTS = new Set(['types', 'outgoing-handler']);

/** Why `name` cannot be imported by a component (of either world); undefined when it can. */
export function importProblem(name: string): string | undefined {
  const parsed = parseInterfaceName(name);
  if (!parsed) return `${name} (not an interface this node provides)`;
  const { pkg, iface, version } = parsed;
  if (pkg === 'enoki:faas') return ENOKI_INTERFACES.has(iface) ? undefined : `${name} (no such Enoki interface)`;
  if (pkg === 'wasi:keyvalue') {
    if (!KEYVALUE_INTERFACES.has(iface)) return `${name} (wasi:keyvalue provides store, atomics and batch)`;
    return version === KEYVALUE_VERSION ? undefined : `${name} (this node implements wasi:keyvalue@${KEYVALUE_VERSION})`;
  }
  const plain = `${pkg}/${iface}`;
  // Outgoing HTTP (wasi:http types and outgoing-handler) in both worlds: what componentize-js
  // builds in by default for `fetch`, held to the function's allow-list either way.
  const known = WASI_BASE.has(plain) || WASI_SOCKETS.has(plain) || (pkg === 'wasi:http' && HTTP_IMPORTS.has(iface));
  if (!known) return name;
  return isWasi02(version) ? undefined : `${name} (this node provides WASI 0.2.x)`;
}

/** The wasi:http/incoming-handler export of a component, if it has a 0.2.x one. */
export function httpHandlerExport(exports: string[]): string | undefined {
  return exports.find((name) => {
    const parsed = parseInterfaceName(name);
    return parsed?.pkg === 'wasi:http' && parsed.iface === 'incoming-handler' && parsed.version !== undefined && isWasi02(parsed.version);
  });
}
