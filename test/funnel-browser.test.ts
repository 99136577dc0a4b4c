// Funnels end to end (issue 16) in real headless Chromium against a real `hush serve` (funnels
// answered by its reports thread) and SQLite file: a funnel made with `hush funnel add`, traffic
// posted through a trusted proxy header, the owner's dashboard shows the funnel with a step below
// k as "< 3", the same numbers as POST /api/v2/funnel with a key from `hush key add`; a second
// funnel added in the settings form is one click away; the strict CSP is never violated. The
// panel's screenshot goes to test/screenshots/funnel.png.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { HAVE_CHROME, CHROME_UA, launch, skipNotice } from './helpers/browser.ts';
import { startServerProcess, killChildren, type ServerProcess } from './helpers/spawn-server.ts';
import { tempDir, UA } from './helpers/harness.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const SHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'screenshots');
const PASSWORD = 'a long enough password';
let server: ServerProcess | undefined, browser: Browser | undefined, cleanup = () => {};
let key = '';
const b = suite('funnel: the dashboard panel in Chromium (issue 16)');

/** `hush …args` in this process (a process start costs ~1.5 s; the server below is a real one). */
const hush = (args: string[], env: Record<string, string>) => runCliInProcess(args, env);

b.before(async () => {
  if (!HAVE_CHROME) return;
  const t = tempDir();
  cleanup = t.cleanup;
  const env = { HUSH_DB: path.join(t.dir, 'hush.db') };
  assert.is((await hush(['site', 'add', 'shop.test'], env)).code, 0);
  const added = await hush(['funnel', 'add', '--site', 'shop.test', '--name', 'Checkout', '--step', '/', '--step', '/pricing', '--step', 'Signup'], env);
  assert.is(added.code, 0, added.stderr);
  const k = await hush(['key', 'add', '--site', 'shop.test'], env);
  key = k.stdout.trim().split('\n').pop()!;
  server = await startServerProcess({ ...env, HUSH_TRUSTED_PROXIES: '127.0.0.1' });
  const hit = async (ip: string, ua: string, path: string, name = 'pageview') => {
    const r = await fetch(`${server!.url}/api/event`, {
      method: 'POST', headers: { 'Content-Type': 'text/plain', 'User-Agent': ua, 'X-Forwarded-For': ip },
      body: JSON.stringify({ n: name, u: `https://shop.test${path}`, d: 'shop.test' }),
    });
    assert.is(r.headers.get('x-hush-dropped'), null);
  };
  // Seven visitors on /, four of them then on /pricing, two of those sign up (below k = 3);
  // one signs up before seeing /pricing, which does not count for step 3.
  const who = [UA.firefox, UA.iphone, CHROME_UA, UA.chromeMac].flatMap((ua) => ['46.4.0.1', '193.166.3.1'].map((ip) => [ip, ua])).slice(0, 7);
  for (const [i, [ip, ua]] of who.entries()) {
    if (i === 5) await hit(ip, ua, '/', 'Signup');
    await hit(ip, ua, '/');
    if (i < 4) await hit(ip, ua, '/pricing');
    if (i < 2) await hit(ip, ua, '/pricing', 'Signup');
  }
  browser = await launch([]);
});

b.after(async () => {
  try {
    await browser?.close();
  } finally {
    await server?.stop();
    await killChildren();
    cleanup();
  }
});

b('the dashboard shows the funnel with the API\'s numbers, "< 3" below k; a second funnel from the settings; no CSP violation', async () => {
  if (!HAVE_CHROME) return;
  const ctx = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(server!.url)) problems.push(`request to ${r.url()}`); });
  try {
    await page.goto(`${server!.url}/`);
    await page.fill('#email', 'owner@example.com');
    await page.fill('#password', PASSWORD);
    await page.fill('#password2', PASSWORD);
    await page.click('button[type=submit]');
    assert.match(page.url(), /\/sites\/shop\.test$/);

    const panel = page.locator('section.panel[aria-label="Funnel"]');
    // The page waits 250 ms at most for a funnel; on a loaded machine the thread may take longer.
    const shown = async (url: string) => {
      for (let i = 0; i < 20 && await panel.locator('[data-funnel-pending]').count(); i++) {
        await new Promise((r) => setTimeout(r, 250));
        await page.goto(url);
      }
    };
    await shown(page.url());
    assert.is(await panel.locator('h2').textContent(), 'Funnel: Checkout');
    const cells = async () => (await panel.locator('td[data-visits]').allTextContents()).map((x) => x.trim());
    assert.equal(await cells(), ['7', '4', '< 3']);
    assert.match((await panel.locator('[data-below-k]').getAttribute('title'))!, /k-anonymity/);

    // The Stats API says the same, for the dashboard's default period.
    const r = await fetch(`${server!.url}/api/v2/funnel`, {
      method: 'POST', headers: { Authorization: `Bearer ${key}` },
      body: JSON.stringify({ site_id: 'shop.test', funnel: 'Checkout', date_range: '30d' }),
    });
    assert.is(r.status, 200);
    const api = await r.json() as Json;
    assert.equal(api.results.map((x: Json) => x.visits), [7, 4, null]);
    assert.equal(api.results.map((x: Json) => x.below_k), [false, false, true]);
    const conv = (await panel.locator('tbody tr td:nth-child(3)').allTextContents()).map((x) => x.trim());
    assert.equal(conv, api.results.map((x: Json) => (x.conversion_rate === null ? '—' : `${x.conversion_rate}%`)));
    assert.match((await panel.locator('tbody tr').nth(1).textContent())!, /3 \(42\.9%\)/, 'drop-off from step 1 to 2');
    mkdirSync(SHOTS, { recursive: true });
    await panel.screenshot({ path: path.join(SHOTS, 'funnel.png') });

    // A second funnel from the settings form, then one click on the dashboard.
    await page.goto(`${server!.url}/sites/shop.test/settings`);
    await page.fill('#funnel_name', 'Pricing only');
    await page.fill('#funnel_steps', '/pricing\nSignup');
    await page.click('button >> text=Add funnel');
    assert.match(await page.textContent('p.ok') ?? '', /Added the funnel "Pricing only"/);
    await page.goto(`${server!.url}/sites/shop.test?period=7d`);
    await shown(page.url());
    await Promise.all([page.waitForURL(/funnel=/), panel.locator('a >> text=Pricing only').click()]);
    await shown(page.url());
    assert.match(page.url(), /\?period=7d&funnel=Pricing\+only$/, 'the period is kept');
    assert.is(await panel.locator('h2').textContent(), 'Funnel: Pricing only');
    assert.equal(await cells(), ['4', '< 3']);
    assert.not.match(await page.content(), /<script/i);
    assert.equal(problems, [], 'no console errors (CSP), no requests elsewhere');
  } finally {
    await ctx.close();
  }
});

b.run();
if (!HAVE_CHROME) skipNotice();
