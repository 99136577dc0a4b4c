// The dashboard in real headless Chromium against a real server process and a database filled by
// `hush demo`: setup → the demo site's numbers equal the Stats API's → clicking a country filters
// every panel → changing the range keeps the filter → logging out ends the session for good.
// Screenshots (desktop, phone) go to test/screenshots/ (git-ignored).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { HAVE_CHROME, launch, skipNotice } from './helpers/browser.ts';
import { startServerProcess, runCli, type ServerProcess } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';
import { tempDir } from './helpers/harness.ts';

const SHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'screenshots');
const PASSWORD = 'a long enough password';

let server: ServerProcess, browser: Browser, key = '', dbPath = '', cleanup = () => {};
const d = suite('dashboard in Chromium');

d.before(async () => {
  if (!HAVE_CHROME) return;
  const t = tempDir();
  cleanup = t.cleanup;
  dbPath = path.join(t.dir, 'hush.db');
  const env = { HUSH_DB: dbPath };
  const demo = await runCli(['demo', '--days', '30', '--visits', '120'], env);
  assert.is(demo.code, 0, demo.stderr);
  // key add and site add below run in this process (test/cli.test.ts runs them as processes)
  key = (await runCliInProcess(['key', 'add', '--site', 'demo.test'], env)).stdout.trim().split('\n').pop()!;
  server = await startServerProcess({ ...env, HUSH_ROLLUP_MS: '200' });
  browser = await launch([]);
});

d.after(async () => {
  if (!HAVE_CHROME) return;
  try {
    await browser?.close();
  } finally {
    await server?.stop(); // SIGTERM, SIGKILL if it lingers
    cleanup();
  }
});

async function api(body: Record<string, unknown>): Promise<number | null> {
  const r = await fetch(`${server.url}/api/v2/query`, {
    method: 'POST', headers: { Authorization: `Bearer ${key}` }, body: JSON.stringify({ site_id: 'demo.test', metrics: ['visitors'], ...body }),
  });
  const json = await r.json() as { results: Array<{ metrics: Array<number | null> }> };
  return json.results[0]?.metrics[0] ?? null;
}

const shown = async (page: Page, metric: string) => Number((await page.textContent(`[data-metric="${metric}"]`))!.replace(/,/g, ''));

d('setup, the numbers, a country filter, a range change, logout', async () => {
  if (!HAVE_CHROME) return;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const blocked: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') blocked.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(server.url)) blocked.push(`third-party request: ${r.url()}`); });

  await page.goto(`${server.url}/`);
  assert.match(page.url(), /\/setup$/);
  await page.fill('#email', 'owner@example.com');
  await page.fill('#password', PASSWORD);
  await page.fill('#password2', PASSWORD);
  await page.click('button[type=submit]');
  // The only site: setup lands on its dashboard, no list of one (issue 16).
  assert.match(page.url(), /\/sites\/demo\.test$/);

  // The top line is the Stats API's answer for the last 30 days.
  assert.is(await shown(page, 'visitors'), await api({ date_range: '30d' }));
  assert.is(await shown(page, 'pageviews'), await api({ date_range: '30d', metrics: ['pageviews'] }));
  const countries = page.locator('section.panel[aria-label="Countries"] tbody tr');
  assert.ok(await countries.count() >= 3, 'the countries panel has rows');
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-desktop.png'), fullPage: true });

  // Filtered by a custom event, its properties get panels.
  await page.click('section.panel[aria-label="Custom events"] a >> text=Signup');
  const plans = await page.locator('section.panel[aria-label="Signup: plan"] tbody td.label').allTextContents();
  assert.ok(plans.length > 0 && plans.every((x) => ['free', 'pro'].includes(x.trim()) || x.trim().startsWith('(other)')), plans.join(','));
  await page.click('ul.chips a');

  // Click a country: the URL, a chip, and every panel follow.
  await page.click('section.panel[aria-label="Countries"] a >> text=Germany');
  assert.match(decodeURIComponent(page.url()), /f=visit:country:DE/);
  assert.is(await page.locator('ul.chips li').count(), 1);
  const filtered = [['is', 'visit:country', ['DE']]];
  assert.is(await shown(page, 'visitors'), await api({ date_range: '30d', filters: filtered }));
  const countryRows = await page.locator('section.panel[aria-label="Countries"] tbody td.label').allTextContents();
  assert.equal(countryRows.map((x) => x.trim()), ['🇩🇪 Germany']);
  // Each visitor has one browser, device, channel and screen: every such panel adds up to the filtered total.
  const deVisitors = await api({ date_range: '30d', filters: filtered });
  for (const name of ['Browsers', 'Devices', 'Channels', 'Screen sizes', 'Operating systems']) {
    const sum = (await page.locator(`section.panel[aria-label="${name}"] tbody tr td:nth-child(2)`).allTextContents())
      .reduce((s, x) => s + Number(x.replace(/,/g, '')), 0);
    assert.is(sum, deVisitors, `the ${name} panel counts only DE visitors`);
  }

  // Another range keeps the filter.
  await page.click('nav.bar-top a >> text=Last 7 days');
  assert.match(decodeURIComponent(page.url()), /period=7d/);
  assert.match(decodeURIComponent(page.url()), /f=visit:country:DE/);
  assert.is(await shown(page, 'visitors'), await api({ date_range: '7d', filters: filtered }));

  // Remove the chip; compare with the previous period.
  await page.click('ul.chips a');
  assert.is(await page.locator('ul.chips li').count(), 0);
  await page.click('text=Compare with previous period');
  assert.ok(await page.locator('.stat .delta').count() > 0, 'deltas are shown');

  // (other) rows explain themselves.
  const other = page.locator('.other').first();
  if (await other.count()) assert.match((await other.getAttribute('title'))!, /k-anonymity/);

  // Phone width: no horizontal scrolling.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await ctx.storageState() });
  const p2 = await phone.newPage();
  await p2.goto(`${server.url}/sites/demo.test`);
  const overflow = await p2.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  assert.ok((overflow as number) <= 0, `no horizontal scroll on a phone (${overflow}px)`);
  await p2.screenshot({ path: path.join(SHOTS, 'dashboard-phone.png') });
  await phone.close();

  // Log out: the old session cookie no longer opens the dashboard.
  const cookies = await ctx.cookies();
  await page.click('header button >> text=Log out');
  assert.match(page.url(), /\/login$/);
  const session = cookies.find((c) => c.name === 'hush_session')!;
  const replay = await fetch(`${server.url}/sites/demo.test`, { headers: { Cookie: `hush_session=${session.value}` }, redirect: 'manual' });
  assert.equal([replay.status, replay.headers.get('location')], [303, '/login?ended=1']);
  // The Stats API takes keys, never a session cookie.
  const apiWithCookie = await fetch(`${server.url}/api/v2/query`, { method: 'POST', headers: { Cookie: `hush_session=${session.value}` }, body: '{}' });
  assert.is(apiWithCookie.status, 401);
  await page.goto(`${server.url}/sites/demo.test`);
  assert.match(page.url(), /\/login$/);
  assert.equal(blocked, [], 'no console errors, no third-party requests');
  await ctx.close();
});

d('an owner creates and revokes an API key and changes settings; forged and viewer posts change nothing', async () => {
  if (!HAVE_CHROME) return;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${server.url}/login`);
  await page.fill('#email', 'owner@example.com');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.goto(`${server.url}/sites/demo.test`);
  await page.click('nav.bar-top a >> text=Settings');
  assert.match(await page.textContent('pre code') ?? '', /data-domain="demo\.test"/);
  await page.click('button >> text=Create a key');
  const newKey = (await page.textContent('[data-new-key]'))!.trim();
  assert.match(newKey, /^hush_/);
  const ask = (k: string) => fetch(`${server.url}/api/v2/query`, {
    method: 'POST', headers: { Authorization: `Bearer ${k}` }, body: JSON.stringify({ site_id: 'demo.test', metrics: ['visitors'], date_range: '7d' }),
  });
  assert.is((await ask(newKey)).status, 200);
  await page.goto(`${server.url}/sites/demo.test/settings`);
  assert.not.ok((await page.content()).includes(newKey), 'the key is shown once only');
  // Revoke the key just created (the last one listed).
  const revoke = page.locator('form[action$="/keys/revoke"] button');
  await revoke.last().click();
  assert.match(await page.textContent('[role=status]') ?? '', /revoked/);
  assert.is((await ask(newKey)).status, 401);

  // Settings: a bad time zone is refused with a clear message; a good change is saved.
  await page.fill('#timezone', 'Mars/Olympus');
  await page.click('button >> text=Save');
  assert.match(await page.textContent('[role=alert]') ?? '', /not a time zone/);
  await page.fill('#timezone', 'America/New_York');
  await page.fill('#min_visitors', '5');
  await page.click('button >> text=Save');
  assert.match(await page.textContent('[role=status]') ?? '', /Saved/);
  assert.is(await page.inputValue('#min_visitors'), '5');

  // A shared link with a password: read-only, revocable.
  await page.fill('#link_label', 'Board');
  await page.fill('#link_password', 'the board password');
  await page.click('button >> text=Create a shared link');
  const link = (await page.textContent('[data-new-link]'))!.trim();
  assert.match(link, /\/share\/[\w-]{32}$/);
  const outsider = await browser.newContext();
  const op = await outsider.newPage();
  await op.goto(link);
  assert.match(await op.textContent('h1') ?? '', /protected/);
  await op.fill('#password', 'not the password');
  await op.click('button[type=submit]');
  assert.match(await op.textContent('[role=alert]') ?? '', /Wrong password/);
  await op.fill('#password', 'the board password');
  await op.click('button[type=submit]');
  assert.is(await shown(op, 'visitors'), await api({ date_range: '30d' }));
  assert.is(await op.locator('form[method=post]').count(), 0, 'nothing to change in a shared view');
  assert.is(await op.locator('text=Settings').count(), 0);
  await op.click('section.panel[aria-label="Countries"] a >> text=Germany');
  assert.match(decodeURIComponent(op.url()), /\/share\/.*f=visit:country:DE/);
  const sneak = await op.goto(`${server.url}/sites/demo.test/settings`);
  assert.match(sneak!.url(), /\/login$/, 'the link grants nothing outside /share');
  await page.locator('form[action$="/links/revoke"] button').last().click();
  assert.match(await page.textContent('[role=status]') ?? '', /revoked/);
  assert.is((await op.goto(link))!.status(), 404);
  await outsider.close();

  // A post without the form's secret changes nothing.
  const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const forged = await fetch(`${server.url}/sites/demo.test/settings`, {
    method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'timezone=UTC&min_visitors=3&retention_days=1&exclude_paths=',
  });
  assert.is(forged.status, 403);
  await page.goto(`${server.url}/sites/demo.test/settings`);
  assert.is(await page.inputValue('#retention_days'), '760');
  await ctx.close();
});

d('a viewer sees the site shared with it and nothing else; an unknown site is a 404', async () => {
  if (!HAVE_CHROME) return;
  assert.is((await runCliInProcess(['site', 'add', 'other.test'], { HUSH_DB: dbPath })).code, 0);
  const add = await runCli(['user', 'add', 'viewer@example.com', '--site', 'demo.test', '--role', 'viewer', '--password-stdin'], { HUSH_DB: dbPath }, `${PASSWORD}\n`);
  assert.is(add.code, 0, add.stderr);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${server.url}/login`);
  await page.fill('#email', 'viewer@example.com');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  assert.match(page.url(), /\/sites\/demo\.test$/, 'its one site\'s dashboard, not a list of one');
  assert.is((await page.goto(`${server.url}/sites/demo.test`))!.status(), 200);
  assert.is((await page.goto(`${server.url}/sites/other.test`))!.status(), 404, 'not shared with this viewer');
  assert.is((await page.goto(`${server.url}/sites/nope.example`))!.status(), 404);
  assert.is((await page.goto(`${server.url}/sites/demo.test/settings`))!.status(), 403, 'viewers cannot open settings');
  // The privacy page: the site's k (5, set by the owner above), retention and the key's age.
  assert.is((await page.goto(`${server.url}/sites/demo.test/privacy`))!.status(), 200);
  const facts = await page.textContent('dl.facts');
  assert.match(facts!, /5: report rows describing fewer visitors/);
  assert.match(facts!, /760 days/);
  assert.match(facts!, /current key is (not created yet today|\d)/);
  assert.match(await page.textContent('pre') ?? '', /Your IP address is never stored/);
  assert.is(await page.locator('nav.bar-top a >> text=Settings').count(), 0);
  await ctx.close();
});

d.run();
if (!HAVE_CHROME) skipNotice();
