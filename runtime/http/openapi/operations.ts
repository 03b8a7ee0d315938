// Every route of the node's HTTP API, described once: the OpenAPI document (document.ts) is built
// from this table, and test/runtime/http/openapi.test.ts fails when Hono has a route this table
// lacks, or this table a route Hono lacks. Adding a route: register it with Hono, add its entry
// here (path as Hono writes it, e.g. /functions/:name), list the coded errors it can answer —
// their statuses come from runtime/errors.ts — and describe its successful answers.

import type { ErrorCode } from '../../errors.js';
import { integer, json, ok, query, type Answer, type Operation, type Parameter } from './operation.js';
import { ref } from './schemas.js';

export { ALL_METHODS, type Answer, type Method, type Operation } from './operation.js';

/** A function's own answer: any status, headers and body the guest chose. */
const FUNCTION_ANSWER: Answer = {
  description: "The function's own response: its status, headers and body.",
  content: { '*/*': {} },
  headers: {
    'x-enoki-invocation-id': { description: 'The invocation, as named in the function log.', schema: { type: 'string' } },
    'x-enoki-version': { description: 'The function version that answered.', schema: { type: 'string' } },
    'x-enoki-cold-start': { description: '1 when the call had to instantiate the function first.', schema: { enum: ['0', '1'] } },
  },
};

/** What a function call can fail with; 5xx here are the function's failures or the node's load, never the client's input. */
const INVOCATION_ERRORS: ErrorCode[] = [
  'ERR_FUNCTION_NOT_FOUND',
  'ERR_BODY_TOO_LARGE',
  'ERR_BAD_REQUEST',
  'ERR_CALL_SIGNATURE_INVALID',
  'ERR_GUEST_TRAP',
  'ERR_GUEST_ERROR',
  'ERR_MEMORY_LIMIT',
  'ERR_GUEST_BAD_RESPONSE',
  'ERR_TIMEOUT',
  'ERR_CALL_TOO_DEEP',
  'ERR_CALL_UNAVAILABLE',
  'ERR_OVERLOADED',
  'ERR_NODE_UNAVAILABLE',
  'ERR_SHUTTING_DOWN',
  'ERR_COMMIT_FAILED',
];

const INVOCATION_PARAMETERS: Parameter[] = [
  {
    name: 'x-enoki-async',
    in: 'header',
    description:
      'true or 1: answer 202 at once and keep the result at /invocations/{id} (as does "Prefer: respond-async"). ' +
      'Any other value is a synchronous call; the header is passed to the function like every other.',
    schema: { type: 'string' },
  },
];

const INVOKE: Pick<Operation, 'tag' | 'parameters' | 'body' | 'answers' | 'errors' | 'description'> = {
  tag: 'invocation',
  description:
    'Runs the function with this request: method, path below /fn/{name}, query, headers and body are passed to it, and its response is the answer. ' +
    'Failures of the function (ERR_GUEST_*, ERR_TIMEOUT, ERR_MEMORY_LIMIT) answer 5xx with a coded error and the X-Enoki-Error-Code header; ' +
    'a function may also answer any status of its own (without that header).',
  parameters: INVOCATION_PARAMETERS,
  body: { description: 'Passed to the function as it is.', required: false, content: { '*/*': {} } },
  answers: {
    '202': {
      description: 'Accepted for asynchronous execution (X-Enoki-Async: true).',
      content: json(ref('AsyncAccepted')),
      headers: { location: { description: '/invocations/{id}', schema: { type: 'string' } } },
      links: { result: { operationId: 'asyncResult', parameters: { id: '$response.body#/invocationId' }, description: 'Where the result will be.' } },
    },
    default: FUNCTION_ANSWER,
  },
  errors: INVOCATION_ERRORS,
};

const ITEM_ID = { description: 'Item id: letters and digits (an append-only keygroup appends under a new decimal id).', schema: { type: 'string', pattern: '^[a-zA-Z0-9]+$', maxLength: 512 } };

const DEPLOY_ERRORS: ErrorCode[] = [
  'ERR_INVALID_NAME',
  'ERR_INVALID_OPTION',
  'ERR_BAD_REQUEST',
  'ERR_BODY_TOO_LARGE',
  'ERR_NOT_WASM',
  'ERR_NOT_COMPONENT',
  'ERR_WRONG_WORLD',
  'ERR_INVALID_COMPONENT',
  'ERR_KEYGROUP_IN_USE',
  'ERR_WRONG_MUTABILITY',
  'ERR_NODE_UNAVAILABLE',
];

export const OPERATIONS: Operation[] = [
  // ---- the node ----------------------------------------------------------------------------
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'node',
    summary: 'Liveness: the process answers',
    answers: { '200': ok('Alive.', ref('Health')) },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tag: 'node',
    summary: 'Readiness: the node serves what it was started with',
    answers: { '200': ok('Ready.', ref('Readiness')), '503': ok('Starting, or stopping; waitingFor says for what.', ref('Readiness')) },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'node',
    summary: 'Metrics in the Prometheus text format',
    answers: { '200': { description: 'Counters, histograms and gauges.', content: { 'text/plain': { type: 'string' } } } },
  },
  {
    method: 'get',
    path: '/metrics.json',
    operationId: 'metricsSummary',
    tag: 'node',
    summary: 'Metrics at a glance, as JSON: per function calls, errors, cold starts, p50/p99; node memory and load',
    answers: { '200': ok('The figures now.', ref('Metrics')) },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    tag: 'node',
    summary: 'This document',
    answers: { '200': ok('The OpenAPI 3.1 document of this node.', { type: 'object' }) },
  },
  {
    method: 'get',
    path: '/cluster',
    operationId: 'cluster',
    tag: 'node',
    summary: "The node's keygroups with their members, its peers, whether they are reachable, and replication lag",
    admin: true,
    answers: { '200': ok('The view now.', ref('ClusterStatus')) },
  },

  // ---- functions (management) ----------------------------------------------------------------
  {
    method: 'put',
    path: '/functions/:name',
    operationId: 'deployFunction',
    tag: 'functions',
    summary: 'Deploy a component as a new version of a function (and activate it)',
    admin: true,
    parameters: [
      query('keygroup', 'Keygroup for its state (default: the function name).', { type: 'string' }),
      query('immutable', 'Create the keygroup append-only if it does not exist yet.', { enum: ['true', 'false', '1', '0'] }),
      query('kvNode', 'Cluster mode: serve its key-value calls from this node’s replica.', { type: 'string' }),
      query('timeoutMs', 'Per-invocation time limit.', integer('milliseconds', { minimum: 1 })),
      query('memoryMiB', 'Linear memory limit of an instance.', integer('MiB', { minimum: 1 })),
      query('env', 'KEY=VALUE environment of the function; repeat for more.', { type: 'array', items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*=' } }, { explode: true }),
      query('allowHost', 'A host (host, host:port, *.domain or *) a wasi:http function may send requests to; repeat for more. Without one it reaches none.', { type: 'array', items: { type: 'string' } }, { explode: true }),
    ],
    body: {
      description: 'The WebAssembly component.',
      required: true,
      content: { 'application/wasm': { type: 'string', format: 'binary' }, 'application/octet-stream': { type: 'string', format: 'binary' } },
    },
    answers: { '201': ok('Deployed: a new function.', ref('Deployed')), '200': ok('Deployed: a new version, or unchanged.', ref('Deployed')) },
    errors: DEPLOY_ERRORS,
  },
  {
    method: 'get',
    path: '/functions',
    operationId: 'listFunctions',
    tag: 'functions',
    summary: 'Functions with their active versions',
    admin: true,
    answers: { '200': ok('Every function.', ref('FunctionList')) },
  },
  {
    method: 'get',
    path: '/functions/:name',
    operationId: 'describeFunction',
    tag: 'functions',
    summary: 'A function: its versions, the active one, and call counts',
    admin: true,
    answers: { '200': ok('The function.', ref('FunctionDescription')) },
    errors: ['ERR_FUNCTION_NOT_FOUND'],
  },
  {
    method: 'delete',
    path: '/functions/:name',
    operationId: 'deleteFunction',
    tag: 'functions',
    summary: 'Remove a function (and with purge=true its keygroup’s data)',
    admin: true,
    parameters: [query('purge', 'Also delete its keygroup here.', { enum: ['true', 'false', '1', '0'] })],
    answers: { '200': ok('Removed.', ref('Deleted')) },
    errors: ['ERR_FUNCTION_NOT_FOUND', 'ERR_INVALID_OPTION'],
  },
  {
    method: 'post',
    path: '/functions/:name/rollback',
    operationId: 'rollbackFunction',
    tag: 'functions',
    summary: 'Activate an earlier version (default: the one before the active one)',
    admin: true,
    parameters: [query('version', 'The version to activate, e.g. v1 (a JSON body may name it instead).', { type: 'string' })],
    body: {
      description: 'Optional: {"version": "v1"}.',
      required: false,
      content: json({ type: 'object', properties: { version: { type: 'string' } } }),
    },
    answers: { '200': ok('The version now active.', ref('RolledBack')) },
    errors: ['ERR_BAD_REQUEST', 'ERR_FUNCTION_NOT_FOUND', 'ERR_VERSION_NOT_FOUND', 'ERR_NO_PREVIOUS_VERSION'],
  },
  {
    method: 'get',
    path: '/functions/:name/logs',
    operationId: 'functionLogs',
    tag: 'functions',
    summary: 'Recent invocations with their log lines, newest page first',
    admin: true,
    parameters: [
      query('limit', 'Entries per page (default: every kept one).', integer('entries', { minimum: 0 })),
      query('before', 'Entries older than this seq (the `next` of the previous page).', integer('seq', { minimum: 1 })),
    ],
    answers: { '200': ok('A page of entries, oldest first.', ref('LogPage')) },
    errors: ['ERR_FUNCTION_NOT_FOUND', 'ERR_INVALID_OPTION'],
  },

  // ---- invocation ------------------------------------------------------------------------------
  { method: 'all', path: '/fn/:name', operationId: 'invoke', summary: 'Invoke a function', ...INVOKE },
  {
    method: 'all',
    path: '/fn/:name/*',
    operationId: 'invokePath',
    summary: 'Invoke a function with a path below its route',
    ...INVOKE,
    description: `${INVOKE.description} {path} stands for the rest of the path, any number of segments.`,
  },
  {
    method: 'get',
    path: '/invocations/:id',
    operationId: 'asyncResult',
    tag: 'invocation',
    summary: 'The result of an asynchronous invocation, replayed as the function’s response',
    description:
      'Readable with the credentials of the invoking request (its Authorization header or client certificate), its result token, or the admin token. ' +
      'A failed invocation answers its coded error.',
    pathParameters: { id: { description: 'The invocationId of the 202 answer.', schema: { type: 'string', minLength: 1 } } },
    parameters: [{ name: 'x-enoki-result-token', in: 'header', description: 'The resultToken of the 202 answer.', schema: { type: 'string' } }],
    answers: {
      '202': ok('Still running.', ref('AsyncRunning')),
      default: {
        ...FUNCTION_ANSWER,
        headers: { 'x-enoki-invocation-state': { description: 'succeeded or failed', schema: { type: 'string' } } },
      },
    },
    errors: [
      'ERR_INVOCATION_NOT_FOUND',
      'ERR_GUEST_TRAP',
      'ERR_GUEST_ERROR',
      'ERR_MEMORY_LIMIT',
      'ERR_GUEST_BAD_RESPONSE',
      'ERR_TIMEOUT',
      'ERR_CALL_TOO_DEEP',
      'ERR_ASYNC_RESULT_TOO_LARGE',
      'ERR_INVOCATION_INTERRUPTED',
      'ERR_RESULT_STORE_FAILED',
      'ERR_COMMIT_FAILED',
      'ERR_SHUTTING_DOWN',
    ],
  },

  // ---- keygroups -------------------------------------------------------------------------------
  {
    method: 'get',
    path: '/keygroups',
    operationId: 'listKeygroups',
    tag: 'keygroups',
    summary: 'Keygroups of this node’s replica',
    admin: true,
    answers: { '200': ok('Every keygroup here.', ref('KeygroupList')) },
  },
  {
    method: 'get',
    path: '/keygroups/:kg',
    operationId: 'describeKeygroup',
    tag: 'keygroups',
    summary: 'A keygroup: mutability and expiry',
    admin: true,
    answers: { '200': ok('The keygroup.', ref('Keygroup')) },
    errors: ['ERR_KEYGROUP_NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/keygroups/:kg/items',
    operationId: 'scanItems',
    tag: 'keygroups',
    summary: 'Items in id order, each with its siblings and versions',
    admin: true,
    parameters: [
      query('start', 'First id (inclusive); the `next` of the previous page.', { type: 'string' }),
      query('count', 'Items per page.', integer('1–1000', { minimum: 1, maximum: 1000, default: 100 })),
    ],
    answers: { '200': ok('A page of items.', ref('ItemPage')) },
    errors: ['ERR_KEYGROUP_NOT_FOUND', 'ERR_INVALID_OPTION', 'ERR_INVALID_KEY', 'ERR_NODE_UNAVAILABLE'],
  },
  {
    method: 'get',
    path: '/keygroups/:kg/items/:id',
    operationId: 'readItem',
    pathParameters: { id: ITEM_ID },
    tag: 'keygroups',
    summary: 'An item: every sibling with its version',
    admin: true,
    answers: { '200': ok('The item.', ref('Item')) },
    errors: ['ERR_KEYGROUP_NOT_FOUND', 'ERR_ITEM_NOT_FOUND', 'ERR_INVALID_KEY', 'ERR_NODE_UNAVAILABLE'],
  },
  {
    method: 'put',
    path: '/keygroups/:kg/items/:id',
    operationId: 'writeItem',
    pathParameters: { id: ITEM_ID },
    tag: 'keygroups',
    summary: 'Set an item (mutable keygroup) or append under a new decimal id (append-only keygroup)',
    admin: true,
    body: { description: 'The value (UTF-8 text, not empty).', required: true, content: { 'text/plain': { type: 'string', minLength: 1 } } },
    answers: { '200': ok('Committed here and handed to replication.', ref('ItemWritten')) },
    errors: ['ERR_KEYGROUP_NOT_FOUND', 'ERR_INVALID_KEY', 'ERR_INVALID_VALUE', 'ERR_ITEM_EXISTS', 'ERR_BODY_TOO_LARGE', 'ERR_NODE_UNAVAILABLE'],
  },
  {
    method: 'delete',
    path: '/keygroups/:kg/items/:id',
    operationId: 'deleteItem',
    pathParameters: { id: ITEM_ID },
    tag: 'keygroups',
    summary: 'Delete an item of a mutable keygroup',
    admin: true,
    answers: { '200': ok('Deleted here and handed to replication.', ref('ItemWritten')) },
    errors: ['ERR_KEYGROUP_NOT_FOUND', 'ERR_ITEM_NOT_FOUND', 'ERR_INVALID_KEY', 'ERR_WRONG_MUTABILITY', 'ERR_NODE_UNAVAILABLE'],
  },

  // ---- console ---------------------------------------------------------------------------------
  {
    method: 'get',
    path: '/console',
    operationId: 'console',
    tag: 'console',
    summary: 'The web console (it asks for the admin token and keeps it in the browser tab’s session storage)',
    answers: { '200': { description: 'Its page.', content: { 'text/html': { type: 'string' } } } },
  },
  {
    method: 'get',
    path: '/console/*',
    operationId: 'consoleAsset',
    tag: 'console',
    summary: 'The console’s scripts and styles',
    answers: { '200': { description: 'A file.', content: { 'text/javascript': { type: 'string' }, 'text/css': { type: 'string' }, 'text/html': { type: 'string' } } } },
    errors: ['ERR_ROUTE_NOT_FOUND'],
  },
];
