// JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the bodies the node's routes answer, and the
// error body with every stable code of runtime/errors.ts. Referenced from operations.ts by name.

import { ERROR_TABLE } from '../../errors.js';

export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string, extra: Schema = {}): Schema => ({ type: 'string', ...(description && { description }), ...extra });
const int = (description?: string, extra: Schema = {}): Schema => ({ type: 'integer', ...(description && { description }), ...extra });
const num = (description?: string): Schema => ({ type: 'number', ...(description && { description }) });
const bool = (description?: string): Schema => ({ type: 'boolean', ...(description && { description }) });
const array = (items: Schema, description?: string): Schema => ({ type: 'array', items, ...(description && { description }) });

/** An object with these properties, all required except those named in `optional`. */
function object(properties: Record<string, Schema>, optional: string[] = [], extra: Schema = {}): Schema {
  // Closed unless said otherwise: a field the node starts to answer must be documented (tests fail until it is).
  return { type: 'object', properties, required: Object.keys(properties).filter((p) => !optional.includes(p)), additionalProperties: false, ...extra };
}

const version = { type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, description: 'Version vector: node id → counter.' };

const SCHEMAS = {
  ErrorCode: {
    type: 'string',
    enum: Object.keys(ERROR_TABLE),
    description:
      'Stable error code. Each has one HTTP status and one party to blame (client, guest, host, peer): ' +
      Object.entries(ERROR_TABLE)
        .map(([code, { http, blame }]) => `${code} ${http} ${blame}`)
        .join('; '),
  },
  Error: object(
    {
      error: object(
        {
          code: ref('ErrorCode'),
          message: str('For people; may change. Match on code.'),
          blame: { enum: ['client', 'guest', 'host', 'peer'], description: "Whose fault: the caller's, the function's, this node's, or another node's." },
        },
        [],
        { additionalProperties: true, description: 'Further fields (e.g. limit) are details safe to show.' },
      ),
    },
    [],
  ),
  Version: version,
  Health: object({ status: { const: 'ok' }, nodeId: str(), functions: int('Functions deployed.') }),
  Readiness: object(
    {
      status: { enum: ['ready', 'not ready'] },
      nodeId: str(),
      functions: int(),
      waitingFor: array(str(), 'What the node still waits for (only while not ready).'),
    },
    ['waitingFor'],
  ),
  FunctionOptions: object(
    {
      keygroup: str(),
      kvNode: str('Node whose replica serves the keygroup (cluster mode).'),
      timeoutMs: int(),
      memoryMiB: int(),
      env: { type: 'object', additionalProperties: { type: 'string' } },
      allowedHosts: array(str(), 'Hosts a wasi:http function may send requests to (deny by default).'),
    },
    ['kvNode', 'allowedHosts'],
  ),
  FunctionVersion: object({
    id: str('v1, v2, … in deploy order.'),
    digest: str('SHA-256 of the component.'),
    size: int('Bytes.'),
    deployedAt: str(undefined, { format: 'date-time' }),
    options: ref('FunctionOptions'),
  }),
  Deployed: object(
    {
      name: str(),
      version: str(),
      digest: str(),
      size: int(),
      world: { enum: ['enoki:faas/function', 'wasi:http/proxy'], description: 'The world the component targets.' },
      options: ref('FunctionOptions'),
      unchanged: bool('The same component and options were already active: nothing changed.'),
    },
    ['unchanged', 'world'],
  ),
  FunctionList: object({
    functions: array(
      object({ name: str(), version: str('The active version.'), keygroup: str(), size: int(), deployedAt: str(undefined, { format: 'date-time' }) }, [
        'keygroup',
        'size',
        'deployedAt',
      ]),
    ),
  }),
  FunctionDescription: object({
    name: str(),
    createdAt: str(undefined, { format: 'date-time' }),
    active: str('The active version.'),
    versions: array(ref('FunctionVersion'), 'Oldest first; the node keeps a bounded history.'),
    nextVersion: int(),
    stats: object({ invocations: int(), errors: int(), coldStarts: int(), meanMs: num() }),
  }),
  Deleted: object({ name: str(), deleted: { const: true }, dataPurged: bool() }),
  RolledBack: object({ name: str(), version: str('The version now active.') }),
  LogPage: object(
    {
      name: str(),
      kept: int('Entries the node keeps per function.'),
      invocations: array(
        object(
          {
            seq: int('1 for the first invocation since the node started, then 2, 3, …'),
            invocationId: str(),
            at: str(undefined, { format: 'date-time' }),
            version: str(),
            durationMs: num(),
            status: int(),
            cold: bool(),
            lines: array(object({ stream: { enum: ['stdout', 'stderr', 'debug', 'info', 'warn', 'error'] }, message: str() })),
            truncated: bool(),
            caller: str('Invocation id of the calling function.'),
            error: object({ code: str(), message: str() }),
          },
          ['caller', 'error'],
        ),
        'Oldest first.',
      ),
      next: int('Pass as `before` for the page of older entries; absent on the oldest page.'),
    },
    ['next'],
  ),
  AsyncAccepted: object(
    {
      invocationId: str(undefined, { format: 'uuid' }),
      status: str('Where the result will be: /invocations/{id}.'),
      resultToken: str('Present when the request carried no credentials: send it as X-Enoki-Result-Token to read the result.'),
    },
    ['resultToken'],
  ),
  AsyncRunning: object({ invocationId: str(), state: { const: 'running' } }),
  Keygroup: object({ name: str(), mutable: bool('false: append-only.'), expiry: int('Seconds after which items expire here; 0 = never.') }),
  KeygroupList: object({ keygroups: array(ref('Keygroup')) }),
  Sibling: object({ value: str(), version }),
  Item: object({ keygroup: str(), id: str(), siblings: array(ref('Sibling'), 'Concurrent values, each with its version vector.') }),
  ItemPage: object(
    {
      keygroup: str(),
      mutable: bool(),
      items: array(object({ id: str(), siblings: array(ref('Sibling')) })),
      next: str('Pass as `start` for the following page; absent after the last item.'),
    },
    ['next'],
  ),
  ItemWritten: object(
    {
      keygroup: str(),
      id: str(),
      appended: bool('The keygroup is append-only and the value was appended under this id.'),
      deleted: { const: true },
      version,
      replicationError: str('Committed here, but sending it to the peers failed; anti-entropy will.'),
    },
    ['appended', 'deleted', 'version', 'replicationError'],
  ),
  Metrics: object({
    nodeId: str(),
    uptimeSeconds: num(),
    node: object({
      rssBytes: int(),
      heapUsedBytes: int(),
      warmInstances: int(),
      warmInstanceMemoryBytes: int(),
      workers: int(),
      workersBusy: int(),
      queueLength: int(),
      asyncInvocations: int(),
    }),
    functions: array(
      object({
        fn: str(),
        invocations: int(),
        errors: int(),
        errorsByCode: { type: 'object', additionalProperties: { type: 'integer' } },
        coldStarts: int(),
        meanMs: num(),
        p50Ms: num('Over the last 1024 invocations.'),
        p99Ms: num('Over the last 1024 invocations.'),
      }),
    ),
  }),
  ClusterStatus: object({
    mode: { enum: ['standalone', 'cluster'] },
    nodeId: str(),
    keygroups: array(object({ name: str(), mutable: bool(), members: array(object({ nodeId: str(), expiry: int() })) })),
    peers: array(
      object(
        {
          nodeId: str(),
          address: str('host:port of its peering API.'),
          reachable: bool('Its peering port accepted a TCP connection within 1 s.'),
          pending: int('Local writes it has not acknowledged yet.'),
          pendingCapped: bool('pending is at least this (the count stops at a cap).'),
          lagMs: int('Age of the oldest unacknowledged write.'),
        },
        ['address'],
      ),
    ),
    problems: array(str()),
  }),
} satisfies Record<string, Schema>;

export type SchemaName = keyof typeof SCHEMAS;
export const schemas: Record<SchemaName, Schema> = SCHEMAS;
