// Issue 16 in real headless Chromium against a real `hush serve` and SQLite file: the one-site
// owner lands on the dashboard; under German Accept-Language the countries panel, the map's
// tooltips and the chip say "Deutschland" with the flag while URLs keep DE; the map is shaded
// by CSS (light and dark), a country below k is plain land without a link, clicking a country
// filters the dashboard; the two-factor QR code is drawn; and the strict CSP is never violated
// (no console error, no request leaving the server). Traffic: 3 German visitors (k = 3) and 1
// Finnish, posted through a trusted proxy header so their countries are looked up.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { HAVE_CHROME, CHROME_UA, launch, skipNotice } from './helpers/browser.ts';
import { startServerProcess, runCli, type ServerProcess } from './helpers/spawn-server.ts';
import { tempDir, UA } from './helpers/harness.ts';

const SHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'screenshots');
const PASSWORD = 'a long enough password';
let server: ServerProcess, browser: Browser, cleanup = () => {};
const b = suite('web: the dashboard in Chromium (issue 16)');

b.before(async () => {
  if (!HAVE_CHROME) return;
  const t = tempDir();
  cleanup = t.cleanup;
  const env = { HUSH_DB: path.join(t.dir, 'hush.db') };
  assert.is((await runCli(['site', 'add', 'shop.test'], env)).code, 0);
  server = await startServerProcess({ ...env, HUSH_TRUSTED_PROXIES: '127.0.0.1' });
  const hit = async (ip: string, ua: string, name = 'pageview') => {
    const r = await fetch(`${server.url}/api/event`, {
      method: 'POST', headers: { 'Content-Type': 'text/plain', 'User-Agent': ua, 'X-Forwarded-For': ip },
      body: JSON.stringify({ n: name, u: 'https://shop.test/', d: 'shop.test' }),
    });
    assert.is(r.headers.get('x-hush-dropped'), null);
  };
  for (const ua of [UA.firefox, UA.iphone, CHROME_UA]) await hit('46.4.0.1', ua);
  await hit('193.166.3.1', UA.firefox);
  browser = await launch([]);
});

b.after(async () => {
  if (!HAVE_CHROME) return;
  try {
    await browser?.close();
  } finally {
    await server?.stop();
    cleanup();
  }
});

/** A page that records console errors (CSP violations among them) and requests to anywhere else. */
async function open(opts: Parameters<Browser['newContext']>[0] = {}): Promise<{ page: Page; problems: string[]; close(): Promise<void> }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(server.url)) problems.push(`request to ${r.url()}`); });
  return { page, problems, close: () => ctx.close() };
}

const fill = (page: Page, sel: string) => page.locator(sel).evaluate((el) => getComputedStyle(el).fill);

b('setup lands on the dashboard; names in German; the map shades DE only and filters by it; no CSP violation', async () => {
  if (!HAVE_CHROME) return;
  const { page, problems, close } = await open({ locale: 'de-DE' });
  await page.goto(`${server.url}/`);
  await page.fill('#email', 'owner@example.com');
  await page.fill('#password', PASSWORD);
  await page.fill('#password2', PASSWORD);
  await page.click('button[type=submit]');
  assert.match(page.url(), /\/sites\/shop\.test$/, 'one site: straight to its dashboard');

  const rows = (await page.locator('section.panel[aria-label="Countries"] tbody td.label').allTextContents()).map((x) => x.trim());
  assert.equal(rows, ['🇩🇪 Deutschland', '(other) ⓘ']);
  assert.is(await page.locator('svg.map a').count(), 1, 'one shaded country');
  const de = page.locator('svg.map a[data-country="DE"]');
  assert.is(await de.locator('title').textContent(), '🇩🇪 Deutschland: 3 visitors');
  assert.is(await page.locator('svg.map a[data-country="FI"]').count(), 0, 'FI (1 visitor, below k) has no link');
  const land = await fill(page, 'svg.map path.land');
  const shaded = await fill(page, 'svg.map a[data-country="DE"] path');
  assert.ok(land !== shaded && /rgb/.test(land) && /rgb|color/.test(shaded), `${land} vs ${shaded}`);
  assert.is(await page.locator('svg.map').getAttribute('role'), 'img');
  assert.match((await page.locator('svg.map').getAttribute('aria-label'))!, /Visitors by country/);
  assert.not.match(await page.content(), /<script/i);
  mkdirSync(SHOTS, { recursive: true });
  await page.locator('.map-box').screenshot({ path: path.join(SHOTS, 'map-light.png') });

  await de.click();
  assert.match(decodeURIComponent(page.url()), /\/sites\/shop\.test\?f=visit:country:DE$/);
  assert.match(await page.textContent('ul.chips li span') ?? '', /country is 🇩🇪\s*Deutschland/);
  assert.equal(problems, [], 'no console errors (CSP), no requests elsewhere');

  // Dark: the same map in the dark palette; a phone: no horizontal scrolling.
  const state = await page.context().storageState();
  const dark = await open({ colorScheme: 'dark', storageState: state });
  await dark.page.goto(`${server.url}/sites/shop.test`);
  assert.ok(await fill(dark.page, 'svg.map path.land') !== land, 'the land colour follows the scheme');
  await dark.page.locator('.map-box').screenshot({ path: path.join(SHOTS, 'map-dark.png') });
  await dark.close();
  const phone = await open({ viewport: { width: 390, height: 844 }, storageState: state });
  await phone.page.goto(`${server.url}/sites/shop.test`);
  const overflow = await phone.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  assert.ok((overflow as number) <= 0, `no horizontal scroll on a phone (${overflow}px)`);
  await phone.close();

  // Two-factor setup: the QR code is drawn, square and big enough to scan.
  await page.goto(`${server.url}/account`);
  await page.click('button >> text=Set up two-factor login');
  const box = (await page.locator('svg.qr').boundingBox())!;
  assert.ok(box.width >= 150 && Math.abs(box.width - box.height) < 1, JSON.stringify(box));
  assert.is(await page.locator('svg.qr path').count(), 1);
  await page.locator('.totp-setup').screenshot({ path: path.join(SHOTS, 'totp-qr.png') });
  assert.equal(problems, [], 'no console errors (CSP), no requests elsewhere');
  await close();
});

b.run();
if (!HAVE_CHROME) skipNotice();
