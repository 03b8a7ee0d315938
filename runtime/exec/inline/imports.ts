// Every import this host binds itself, by the import's interface name and function name: Enoki's
// world, the WASI 0.2 subset, wasi:http (incoming and outgoing), wasi:keyvalue and wasi:sockets
// (no network). A
// component importing anything else runs on a worker, through jco's glue.

import { isWasi02 } from '../../functions/worlds.js';
import type { Binding } from './binding.js';
import { enokiImport } from './enoki-world.js';
import { HTTP_OUTGOING_BINDINGS } from './http-outgoing.js';
import { HTTP_BINDINGS } from './http-world.js';
import { keyvalueImport } from './keyvalue-world.js';
import { socketsImport } from './sockets-world.js';
import { wasiImport } from './wasi-world.js';

/** wasi:http at any 0.2.x version. */
function httpImport(iface: string, name: string): Binding | undefined {
  const [bare, version] = iface.split('@');
  if (!isWasi02(version)) return undefined;
  return HTTP_BINDINGS[bare]?.[name] ?? HTTP_OUTGOING_BINDINGS[bare]?.[name];
}

export function hostImport(iface: string, name: string): Binding | undefined {
  return enokiImport(iface, name) ?? wasiImport(iface, name) ?? httpImport(iface, name) ?? keyvalueImport(iface, name) ?? socketsImport(iface, name);
}
