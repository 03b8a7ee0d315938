// Matching the route table before the node listens (warm-up/router.ts) runs no handler and
// leaves every route answering as before.
import { Hono } from 'hono';
import * as assert from 'uvu/assert';
import { warmRouter } from '../../runtime/warm-up/router.js';
import { test } from '../helpers/suite.js';

test('no handler runs, and afterwards each route answers as before', async () => {
  const ran: string[] = [];
  const app = new Hono();
  app.use('*', async (c, next) => {
    ran.push(`middleware ${c.req.method} ${c.req.path}`);
    await next();
  });
  app.get('/healthz', (c) => c.text('ok'));
  app.all('/fn/:name', (c) => {
    ran.push(`${c.req.method} ${c.req.param('name')}`);
    return c.text(c.req.param('name'));
  });
  app.delete('/functions/:name', (c) => c.text(`deleted ${c.req.param('name')}`));
  warmRouter(app);
  assert.equal(ran, []);
  assert.equal(await (await app.request('/fn/hello', { method: 'POST' })).text(), 'hello');
  assert.equal(await (await app.request('/functions/hello', { method: 'DELETE' })).text(), 'deleted hello');
  assert.equal(await (await app.request('/healthz')).text(), 'ok');
  assert.equal((await app.request('/nowhere')).status, 404);
  assert.equal(ran, ['middleware POST /fn/hello', 'POST hello', 'middleware DELETE /functions/hello', 'middleware GET /healthz', 'middleware GET /nowhere']);
});

test.run();
