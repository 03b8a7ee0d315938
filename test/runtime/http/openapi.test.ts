// The OpenAPI document (GET /openapi.json) is true to the node: every route Hono has is in it and
// nothing else, its error answers carry the statuses of runtime/errors.ts, and real answers of the
// node — successes and coded errors — have documented statuses and bodies of the documented shape.

import { inspectRoutes } from 'hono/dev';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { ERROR_TABLE } from '../../../runtime/errors.js';
import { documentedRoutes, openApiPath } from '../../../runtime/http/openapi/document.js';
import { validate } from '../../helpers/json-schema.js';
import { guest, startTestNode, TOKEN, type TestNode } from '../../helpers/test-node.js';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

const test = suite<{ n: TestNode; doc: Doc }>('http: OpenAPI document');

test.before(async (ctx) => {
  ctx.n = await startTestNode();
  const res = await fetch(`${ctx.n.url}/openapi.json`);
  assert.is(res.status, 200);
  ctx.doc = (await res.json()) as Doc;
});
test.after(async (ctx) => {
  await ctx.n.close();
});

test('every route the node serves is documented, and every documented route is served', ({ n }) => {
  const served = new Set(
    inspectRoutes(n.node.app)
      .filter((r) => !r.isMiddleware)
      .map((r) => `${r.method} ${r.path}`),
  );
  const documented = new Set(documentedRoutes().map((r) => `${r.method} ${r.path}`));
  const undocumented = [...served].filter((r) => !documented.has(r));
  assert.equal(undocumented, [], `routes missing from runtime/http/openapi/operations.ts: ${undocumented.join(', ')}`);
  const stale = [...documented].filter((r) => !served.has(r));
  assert.equal(stale, [], `documented routes the node does not serve: ${stale.join(', ')}`);
  assert.ok(served.size >= 20, `only ${served.size} routes seen`);
});

test('the document is OpenAPI 3.1 with every error code, each under its own status', ({ doc }) => {
  assert.is(doc.openapi, '3.1.0');
  assert.equal([...(doc.components.schemas.ErrorCode.enum as string[])].sort(), Object.keys(ERROR_TABLE).sort());
  let errorAnswers = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [status, answer] of Object.entries(op.responses)) {
        const schema = answer.content?.['application/json']?.schema as { allOf?: unknown; properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } | undefined;
        const codes = schema?.allOf ? schema.properties?.error?.properties?.code?.enum : undefined;
        if (!codes) continue;
        errorAnswers++;
        for (const code of codes) assert.is(String(ERROR_TABLE[code as keyof typeof ERROR_TABLE].http), status, `${method} ${path}: ${code}`);
      }
    }
  }
  assert.ok(errorAnswers > 20, `${errorAnswers} error answers`);
  // Every $ref points somewhere.
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  for (const ref of refs) {
    const name = /#\/components\/schemas\/([^"]+)"/.exec(ref)?.[1];
    assert.ok(name && doc.components.schemas[name], `unresolved ${ref}`);
  }
  // Admin routes say so: a request without the token is documented as 401.
  assert.ok(doc.paths['/functions/{name}'].put.responses['401']);
  assert.not.ok(doc.paths['/healthz'].get.responses['401']);
});

/** The documented answer for a real response, checked: status listed (or default), JSON body valid. */
async function conforms(doc: Doc, method: string, route: string, res: Response): Promise<void> {
  const path = Object.keys(doc.paths).find((template) => {
    const pattern = '^' + template.replace(/\{path\}/g, '.+').replace(/\{[^}]+\}/g, '[^/]+') + '$';
    return new RegExp(pattern).test(route.split('?')[0]);
  });
  assert.ok(path, `${route} matches no documented path`);
  const op = doc.paths[path!][method.toLowerCase()];
  assert.ok(op, `${method} ${path} is not documented`);
  const answer = op.responses[String(res.status)] ?? op.responses.default;
  assert.ok(answer, `${method} ${route} answered ${res.status}, which ${method} ${path} does not document`);
  const type = res.headers.get('content-type') ?? '';
  const schema = answer.content?.['application/json']?.schema;
  const text = await res.text();
  if (schema && op.responses[String(res.status)]) {
    assert.match(type, /^application\/json/, `${method} ${route} ${res.status}: content-type ${type}`);
    const problems = validate(JSON.parse(text), schema, doc as unknown as Record<string, unknown>);
    assert.equal(problems, [], `${method} ${route} ${res.status} ${text.slice(0, 300)}`);
  }
}

test('real answers of the node conform to the document', async ({ n, doc }) => {
  const calls: [string, string, (string | Uint8Array)?, Record<string, string>?][] = [
    ['GET', '/healthz'],
    ['GET', '/readyz'],
    ['GET', '/metrics'],
    ['PUT', '/functions/greeter', await guest('hello')],
    ['PUT', '/functions/greeter', await guest('echo')],
    ['PUT', '/functions/greeter', await guest('echo')],
    ['PUT', '/functions/journal?immutable=true', await guest('hello')],
    ['PUT', '/functions/broken', new TextEncoder().encode('not wasm')],
    ['PUT', '/functions/Bad_Name', await guest('hello')],
    ['PUT', '/functions/greeter?timeoutMs=soon', await guest('hello')],
    ['GET', '/functions'],
    ['GET', '/functions/greeter'],
    ['GET', '/functions/nope'],
    ['POST', '/fn/greeter/some/path?x=1', 'body'],
    ['POST', '/fn/greeter', 'later', { 'x-enoki-async': 'true' }],
    ['GET', '/fn/nope'],
    ['GET', '/functions/greeter/logs?limit=1'],
    ['GET', '/functions/greeter/logs?limit=-1'],
    ['POST', '/functions/greeter/rollback', '{"version":"v1"}'],
    ['POST', '/functions/greeter/rollback', '{"version":5}'],
    ['POST', '/functions/greeter/rollback?version=v9'],
    ['GET', '/keygroups'],
    ['GET', '/keygroups/greeter'],
    ['GET', '/keygroups/nope'],
    ['PUT', '/keygroups/greeter/items/a', 'one'],
    ['PUT', '/keygroups/journal/items/1', 'first'],
    ['GET', '/keygroups/greeter/items/a'],
    ['GET', '/keygroups/greeter/items?count=1'],
    ['GET', '/keygroups/greeter/items?count=0'],
    ['DELETE', '/keygroups/journal/items/1'],
    ['DELETE', '/keygroups/greeter/items/a'],
    ['GET', '/keygroups/greeter/items/a'],
    ['GET', '/metrics.json'],
    ['GET', '/cluster'],
    ['GET', '/invocations/00000000-0000-0000-0000-000000000000'],
    ['GET', '/console'],
    ['GET', '/console/nope.js'],
    ['DELETE', '/functions/journal'],
  ];
  const statuses: number[] = [];
  for (const [method, route, body, headers] of calls) {
    const res = await fetch(n.url + route, { method, body: body as BodyInit | undefined, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
    statuses.push(res.status);
    if (route === '/fn/greeter' && res.status === 202) {
      // The async result, read back through its documented link.
      const { invocationId } = (await res.clone().json()) as { invocationId: string };
      let result: Response;
      do result = await fetch(`${n.url}/invocations/${invocationId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      while (result.status === 202 && (await new Promise((r) => setTimeout(r, 50)), true));
      await conforms(doc, 'GET', `/invocations/${invocationId}`, result);
    }
    await conforms(doc, method, route, res);
  }
  // Unauthenticated management calls answer the documented 401.
  const anonymous = await fetch(`${n.url}/functions`);
  assert.is(anonymous.status, 401);
  await conforms(doc, 'GET', '/functions', anonymous);
  // The calls covered successes and errors alike.
  for (const status of [200, 201, 202, 400, 401, 404, 409, 422]) assert.ok(statuses.includes(status) || status === 401, `no ${status} among ${statuses.join(' ')}`);
});

test('paths are written the OpenAPI way', () => {
  assert.is(openApiPath('/fn/:name/*'), '/fn/{name}/{path}');
  assert.is(openApiPath('/keygroups/:kg/items/:id'), '/keygroups/{kg}/items/{id}');
});

test.run();
