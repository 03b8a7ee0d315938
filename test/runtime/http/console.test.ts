// The web console end to end in a real headless Chromium (Debian's, driven by playwright-core):
// sign in with the admin token, deploy a .wasm, roll back, invoke with a body, watch the log of
// a function that prints, edit a keygroup's items (mutable and append-only), read the metrics
// and the cluster view, sign out. Skipped, saying why, only where no Chromium can be had.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guestPath, startTestNode, TOKEN, type TestNode } from '../../helpers/test-node.js';
import { CHROMIUM_ARGS, ensureChromium } from '../../support/chromium.js';

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;

const test = suite<{ n: TestNode; browser: Browser; page: Page }>('http: web console in Chromium');
const chromium = ensureChromium();
/** Generous: the machine is shared, and the first deploys transpile components. */
const WAIT = { timeout: 60_000 };

if (!chromium.ok) {
  test.skip('deploy, invoke, logs, KV edit, metrics and cluster view in the browser', () => undefined);
  process.stdout.write(`\nSKIPPED: web console in Chromium — ${chromium.reason}\n`);
} else {
  test.before(async (ctx) => {
    ctx.n = await startTestNode();
    const { chromium: driver } = await import('playwright-core');
    ctx.browser = await driver.launch({ executablePath: chromium.executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
    ctx.page = await ctx.browser.newPage();
    ctx.page.setDefaultTimeout(WAIT.timeout);
  });
  test.after(async (ctx) => {
    await ctx.browser?.close();
    await ctx.n?.close();
  });

  /** The text of the row of `table` whose data attribute names `key`. */
  const row = (page: Page, table: string, attribute: string, key: string) => page.locator(`${table} tbody tr[data-${attribute}="${key}"]`);

  test('a wrong token is refused; the right one is kept in the tab, never in a URL', async ({ n, page }) => {
    await page.goto(`${n.url}/console`);
    await page.getByLabel('Admin token').waitFor();
    assert.ok(await page.locator('#tabs').isHidden(), 'no tabs before signing in');
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The node refused this token.').waitFor();
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#functions').waitFor({ state: 'visible' });
    assert.ok(await page.locator('#login').isHidden());
    assert.is(await page.evaluate(() => sessionStorage.getItem('enoki.adminToken')), TOKEN);
    assert.not.ok(page.url().includes(TOKEN));
    assert.match(await page.locator('#node-id').innerText(), n.node.nodeId);
  });

  test('deploy a .wasm, deploy a second version, roll back to the first', async ({ page }) => {
    const deploy = async (name: string, file: string, appendOnly = false) => {
      await page.locator('#deploy-form input[name=name]').fill(name);
      await page.locator('#deploy-form input[name=file]').setInputFiles(file);
      if (appendOnly) await page.locator('#deploy-form input[name=immutable]').check();
      else await page.locator('#deploy-form input[name=immutable]').uncheck();
      await page.getByRole('button', { name: 'Deploy' }).click();
    };
    await deploy('tally', guestPath('hello'));
    await page.locator('#deploy-result', { hasText: 'Deployed tally v1' }).waitFor();
    await deploy('tally', guestPath('counter'));
    await page.locator('#deploy-result', { hasText: 'Deployed tally v2' }).waitFor();
    await row(page, '#function-table', 'name', 'tally').locator('text=v2').waitFor();
    // The detail shows both versions, v2 active, and rolls back to v1.
    await page.locator('#detail-name', { hasText: 'tally' }).waitFor();
    assert.match(await row(page, '#version-table', 'version', 'v2').innerText(), 'active');
    await page.getByRole('button', { name: 'Roll back to v1' }).click();
    await page.locator('#detail-message', { hasText: 'tally now runs v1' }).waitFor();
    await row(page, '#function-table', 'name', 'tally').locator('td:nth-child(2)', { hasText: 'v1' }).waitFor();
    await page.getByRole('button', { name: 'Roll back to v2' }).click();
    await page.locator('#detail-message', { hasText: 'tally now runs v2' }).waitFor();

    await deploy('printer', guestPath('fixtures/stdio.wasm'));
    await page.locator('#deploy-result', { hasText: 'Deployed printer v1' }).waitFor();
    await deploy('journal', guestPath('hello'), true);
    await page.locator('#deploy-result', { hasText: 'Deployed journal v1' }).waitFor();
    await deploy('echo', guestPath('echo'));
    await page.locator('#deploy-result', { hasText: 'Deployed echo v1' }).waitFor();
  });

  test('invoke with a method, path and body; the admin token does not reach the function', async ({ page }) => {
    await row(page, '#function-table', 'name', 'echo').click();
    await page.locator('#detail-name', { hasText: 'echo' }).waitFor();
    await page.getByLabel('Method').selectOption('PUT');
    await page.getByLabel('Path').fill('/a/b?x=1');
    await page.getByLabel('Body').fill('hello from the console');
    await page.getByRole('button', { name: 'Invoke' }).click();
    await page.locator('#invoke-status', { hasText: '200' }).waitFor();
    const echoed = JSON.parse(await page.locator('#invoke-body').innerText()) as { method: string; path: string; query: string; body: string; headers: [string, string][] };
    assert.equal([echoed.method, echoed.path, echoed.query, echoed.body], ['PUT', '/a/b', 'x=1', 'hello from the console']);
    assert.not.ok(
      echoed.headers.some(([name, value]) => name === 'authorization' || value.includes(TOKEN)),
      JSON.stringify(echoed.headers),
    );

    await row(page, '#function-table', 'name', 'tally').click();
    await page.locator('#detail-name', { hasText: 'tally' }).waitFor();
    await page.getByLabel('Path').fill('');
    await page.getByLabel('Method').selectOption('POST');
    await page.getByRole('button', { name: 'Invoke' }).click();
    await page.locator('#invoke-body', { hasText: /^1$/ }).waitFor();
    await page.getByRole('button', { name: 'Invoke' }).click();
    await page.locator('#invoke-body', { hasText: /^2$/ }).waitFor();
    // The console shows the answer first, then fetches the function's stats again.
    await page.locator('#detail-stats', { hasText: /^2 calls/ }).waitFor();
  });

  test('the log view shows what a function printed, and new invocations as they happen', async ({ n, page }) => {
    await (await fetch(`${n.url}/fn/printer/print?first`)).text();
    await page.locator('#tabs a[data-tab=logs]').click();
    await page.locator('#log-function').selectOption('printer');
    await page.locator('#log-entries .log-entry', { hasText: 'to stdout first' }).waitFor();
    assert.match(await page.locator('#log-entries').innerText(), 'to stderr');
    // Live: a call made elsewhere shows up without touching the page, with its error.
    await (await fetch(`${n.url}/fn/printer/throw`)).text();
    await page.locator('#log-entries .log-entry', { hasText: 'thrown on purpose' }).waitFor();
    assert.match(await page.locator('#log-entries .log-entry').first().innerText(), /ERR_GUEST_ERROR|thrown on purpose/);
  });

  test('KV browser: read and edit an item the function uses; append to an append-only keygroup', async ({ n, page }) => {
    await page.locator('#tabs a[data-tab=keygroups]').click();
    await row(page, '#keygroup-table', 'keygroup', 'tally').click();
    const count = row(page, '#item-table', 'id', 'count');
    await count.waitFor();
    assert.match(await count.innerText(), /\b2\b/);
    assert.match(await count.innerText(), n.node.nodeId, 'the version vector names this node');
    await count.getByRole('button', { name: 'Edit' }).click();
    await page.locator('#item-form textarea[name=value]').fill('41');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#item-message', { hasText: 'Saved count' }).waitFor();
    await count.locator('pre', { hasText: /^41$/ }).waitFor();
    // The function reads what the console wrote.
    assert.is(await (await fetch(`${n.url}/fn/tally`, { method: 'POST' })).text(), '42');

    await row(page, '#keygroup-table', 'keygroup', 'journal').click();
    await page.locator('#keygroup-kind', { hasText: 'Append-only' }).waitFor();
    await page.locator('#item-form input[name=id]').fill('1');
    await page.locator('#item-form textarea[name=value]').fill('first entry');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#item-message', { hasText: 'Appended 1' }).waitFor();
    const entry = row(page, '#item-table', 'id', '1');
    await entry.locator('pre', { hasText: 'first entry' }).waitFor();
    assert.is(await entry.getByRole('button', { name: 'Delete' }).count(), 0, 'append-only items cannot be deleted');
    // Appending under an id that exists is refused with the store's code.
    await page.locator('#item-form input[name=id]').fill('1');
    await page.locator('#item-form textarea[name=value]').fill('again');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#item-message.error', { hasText: 'ERR_' }).waitFor();
  });

  test('metrics at a glance and the cluster view', async ({ n, page }) => {
    await page.locator('#tabs a[data-tab=metrics]').click();
    const tally = row(page, '#metric-table', 'fn', 'tally');
    await tally.waitFor();
    const cells = await tally.locator('td').allInnerTexts();
    assert.is(cells[1], '3', `calls: ${cells.join(' | ')}`);
    assert.match(cells[3], /s$/, 'p50 has a unit');
    await row(page, '#metric-table', 'fn', 'printer').locator('td.error', { hasText: '1' }).waitFor();
    assert.match(await page.locator('#node-figures').innerText(), /memory \(RSS\) \d/);

    await page.locator('#tabs a[data-tab=cluster]').click();
    await page.locator('#cluster-mode', { hasText: 'standalone' }).waitFor();
    assert.match(await row(page, '#member-table', 'keygroup', 'journal').innerText(), `${n.node.nodeId} (this node)`);
    assert.match(await row(page, '#member-table', 'keygroup', 'journal').innerText(), 'append-only');

    const shot = path.join(os.tmpdir(), 'enoki-console-cluster.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok((await fs.stat(shot)).size > 1000);
  });

  test('signing out forgets the token; a token the node no longer takes sends the console back to sign-in', async ({ n, page }) => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#login').waitFor({ state: 'visible' });
    assert.is(await page.evaluate(() => sessionStorage.getItem('enoki.adminToken')), null);
    // A stale token (e.g. the node's token was changed) is dropped at the first refusal.
    await page.evaluate(() => sessionStorage.setItem('enoki.adminToken', 'stale'));
    await page.goto(`${n.url}/console#keygroups`);
    await page.getByText('The node refused the token: sign in again.').waitFor();
    assert.is(await page.evaluate(() => sessionStorage.getItem('enoki.adminToken')), null);
  });

  test('the console is served with a policy that runs no inline or foreign script', async ({ n }) => {
    const res = await fetch(`${n.url}/console`);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', "script-src 'self'");
    assert.not.match(await res.text(), /<script>(?!\s*<\/script>)/, 'no inline script');
    for (const file of ['app.js', 'api.js', 'console.css']) assert.is((await fetch(`${n.url}/console/${file}`)).status, 200, file);
    assert.is((await fetch(`${n.url}/console/../package.json`)).status, 404);
  });
}

test.run();
