// Builds the OpenAPI 3.1 document (GET /openapi.json) from the route table in operations.ts and
// the schemas in schemas.ts. Coded errors are grouped under their status from runtime/errors.ts,
// so the document cannot give a code another status than the node answers with.

import { ERROR_TABLE, type ErrorCode } from '../../errors.js';
import { ALL_METHODS, OPERATIONS, type Answer, type Operation } from './operations.js';
import { ref, schemas, type Schema } from './schemas.js';

/** Version of this API description (not of the package). */
export const API_VERSION = '1.0.0';

/** Path parameters by name, wherever they appear. */
const PATH_PARAMETERS: Record<string, { description: string; schema: Schema }> = {
  name: {
    description: 'Function name: 1–63 lowercase letters, digits and dashes, starting with a letter or digit.',
    schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$', examples: ['hello'] },
  },
  path: { description: 'The rest of the path (may span segments).', schema: { type: 'string' } },
  kg: { description: 'Keygroup name: letters and digits.', schema: { type: 'string', pattern: '^[a-zA-Z0-9]+$', maxLength: 512, examples: ['counter'] } },
};

const DESCRIPTION = `The HTTP API of an Enoki node: deploy and manage functions, invoke them (also asynchronously), read their logs and metrics, browse keygroups.

Errors have a JSON body {"error": {"code", "message", …}} and an X-Enoki-Error-Code header with the same code. Each code has one status and one party to blame (see the ErrorCode schema): client codes are 4xx; 5xx answers are failures of a function (ERR_GUEST_*, ERR_TIMEOUT, ERR_MEMORY_LIMIT: the function's fault), the node's load (ERR_OVERLOADED) or another node (ERR_NODE_UNAVAILABLE, ERR_CALL_UNAVAILABLE). Any route may answer 500 ERR_INTERNAL on a fault of the node itself: that is a bug, never the client's doing.

Management routes need "Authorization: Bearer <admin token>".`;

/** Hono's /fn/:name/* → OpenAPI's /fn/{name}/{path}. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{path}');
}

/** The table writes media type → schema; OpenAPI wants media type → { schema }. */
const media = (content: Record<string, Schema>) => Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }]));

function answer(a: Answer): Record<string, unknown> {
  return { ...a, ...(a.content && { content: media(a.content) }) };
}

function errorAnswer(codes: ErrorCode[]): Answer {
  return {
    description: codes.join(', '),
    content: {
      'application/json': {
        allOf: [ref('Error')],
        properties: { error: { type: 'object', properties: { code: { enum: codes } } } },
      },
    },
    headers: { 'x-enoki-error-code': { description: 'The error code, as in the body.', schema: { enum: codes } } },
  };
}

function responses(op: Operation): Record<string, unknown> {
  const byStatus = new Map<string, ErrorCode[]>();
  for (const code of [...(op.admin ? (['ERR_UNAUTHORIZED'] as ErrorCode[]) : []), ...(op.errors ?? [])]) {
    const status = String(ERROR_TABLE[code].http);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, Answer> = {};
  for (const [status, a] of Object.entries(op.answers)) out[status] = a;
  for (const [status, codes] of byStatus) {
    if (out[status]) throw new Error(`${op.operationId}: status ${status} is both an answer and an error (${codes.join(', ')})`);
    out[status] = errorAnswer(codes);
  }
  const sorted = Object.keys(out).sort((a, b) => (a === 'default' ? 1 : b === 'default' ? -1 : Number(a) - Number(b)));
  return Object.fromEntries(sorted.map((status) => [status, answer(out[status])]));
}

function operation(op: Operation, operationId: string): Record<string, unknown> {
  const pathParams = [...openApiPath(op.path).matchAll(/\{([^}]+)\}/g)].map(([, name]) => {
    const known = op.pathParameters?.[name] ?? PATH_PARAMETERS[name];
    if (!known) throw new Error(`${op.operationId}: no description of the path parameter "${name}"`);
    return { name, in: 'path', required: true, ...known };
  });
  const params = (op.parameters ?? []).map(({ explode, ...p }) => ({ ...p, ...(explode !== undefined && { style: 'form', explode }) }));
  return {
    operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description && { description: op.description }),
    ...(op.admin && { security: [{ adminToken: [] }] }),
    ...(pathParams.length + params.length > 0 && { parameters: [...pathParams, ...params] }),
    ...(op.body && { requestBody: { ...op.body, content: media(op.body.content) } }),
    responses: responses(op),
  };
}

/** The method + path pairs the table documents, as Hono names them (ALL for app.all). */
export function documentedRoutes(): { method: string; path: string }[] {
  return OPERATIONS.map((op) => ({ method: op.method.toUpperCase(), path: op.path }));
}

let built: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  if (built) return built;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const item = (paths[openApiPath(op.path)] ??= {});
    if (op.method === 'all') {
      for (const method of ALL_METHODS) item[method] = operation(op, `${op.operationId}${method[0].toUpperCase()}${method.slice(1)}`);
    } else {
      if (item[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is in the route table twice`);
      item[op.method] = operation(op, op.operationId);
    }
  }
  built = {
    openapi: '3.1.0',
    info: { title: 'Enoki node', version: API_VERSION, description: DESCRIPTION, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
    tags: [
      { name: 'node', description: 'Health, readiness, metrics, this document, the cluster view' },
      { name: 'functions', description: 'Deploy, describe, roll back and remove functions; their logs' },
      { name: 'invocation', description: 'Calling functions, synchronously or not' },
      { name: 'keygroups', description: 'Items of the keygroups in this node’s replica' },
      { name: 'console', description: 'The web console' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'The node’s admin token (ENOKI_ADMIN_TOKEN, or generated into the data directory).' } },
    },
  };
  return built;
}
