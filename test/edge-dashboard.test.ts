// The dashboard and accounts at the edge, in the real Workers runtime (`npm run edge:dev`: wrangler
// + workerd, one instance for this file, killed whatever happens): the first account and site made
// with the admin API (the edge's /setup page says so instead of making one), then Chromium logs in
// and reads the site's dashboard — Node's pages, served by the directory object, numbers from the
// site object — with the world map drawn from the bundled geometry. A time zone changed in the
// settings page reaches the site object's rollups. The login limiter counts failures per truncated
// network prefix, the only trace of the address the Worker passes on. /api/privacy states the same
// facts as Node's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { probeWorkerd, startEdgeDev, type EdgeDev } from './helpers/edge-dev.ts';
import { HAVE_CHROME, CHROME_UA, launch, skipNotice } from './helpers/browser.ts';
import { harness } from './helpers/harness.ts';
import { loadCountryTables } from '../src/pseudonymize/country-data.ts';
import { lookupCountry } from '../src/pseudonymize/country.ts';
import { truncateIp } from '../src/pseudonymize/truncate.ts';
import { localParts } from '../src/reports/time-zone.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKEN = `t-${randomBytes(8).toString('hex')}`;
const PASSWORD = 'edge dashboard password';
const workerd = probeWorkerd();
const t = suite('edge: accounts and the dashboard in workerd');
const test = workerd.ok ? t : (t.skip as typeof t);
const btest = workerd.ok && HAVE_CHROME ? t : (t.skip as typeof t);
if (!workerd.ok) console.log(`SKIPPED LOUDLY: the workerd binary cannot run on this machine (${workerd.why}); edge dashboard tests did not run`);
else if (!HAVE_CHROME) skipNotice();

let edge: EdgeDev | null = null;
let browser: Browser | null = null;
const admin = (p: string, body?: unknown, token = TOKEN) => fetch(`${edge!.base}/_hush/admin${p}`, {
  method: 'POST', body: body === undefined ? undefined : JSON.stringify(body), headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
});

// Visitors: 4 in GB, 3 in DE, 1 in JP (below k = 3: folded, not on the map). Same /24 per
// country, so distinct user-agents make distinct visitors.
const VISITS: Array<{ ip: string; ua: string }> = [
  ...[1, 2, 3, 4].map((i) => ({ ip: `81.2.69.${140 + i}`, ua: `${CHROME_UA} Edge/${i}` })),
  ...[1, 2, 3].map((i) => ({ ip: `85.214.132.${110 + i}`, ua: `${CHROME_UA} Edge/${10 + i}` })),
  { ip: '133.242.0.1', ua: `${CHROME_UA} Edge/20` },
];

t.before(async () => {
  if (!workerd.ok) return;
  edge = await startEdgeDev({ HUSH_ADMIN_TOKEN: TOKEN, HUSH_ROLLUP_MS: '1000' });
  if (HAVE_CHROME) browser = await launch([]);
});
t.after(async () => {
  try {
    await browser?.close();
  } finally {
    edge?.stop();
  }
});

test('the first account and site: /setup points to the admin API, which makes them (and refuses bad input, or no token)', async () => {
  const first = await fetch(`${edge!.base}/`, { redirect: 'manual' });
  assert.is(first.status, 303);
  assert.is(first.headers.get('location'), '/setup', 'no account yet: the pages send to /setup');
  const setup = await fetch(`${edge!.base}/setup`);
  assert.is(setup.status, 200);
  const text = await setup.text();
  assert.match(text, /No account exists yet/);
  assert.match(text, /_hush\/admin\/users/);
  assert.is((await fetch(`${edge!.base}/setup`, { method: 'POST', body: 'email=x%40y.z' })).status, 200, 'and makes no account');

  assert.is((await admin('/users', { email: 'a@example.com', password: PASSWORD, admin: true }, 'wrong')).status, 401);
  const bad = await admin('/users', { email: 'not an address', password: PASSWORD, admin: true });
  assert.is(bad.status, 400);
  assert.match((await bad.json()).error, /"email"/);
  const short = await admin('/users', { email: 'a@example.com', password: 'short', admin: true });
  assert.is(short.status, 400);
  assert.match((await short.json()).error, /password/);
  assert.is((await admin('/users', { email: 'a@example.com', password: PASSWORD })).status, 400, 'admin or a site');

  const site = await admin('/sites', { domain: 'shop.example', timezone: 'UTC' });
  assert.is(site.status, 201);
  const made = await admin('/users', { email: 'Owner@Example.com', password: PASSWORD, admin: true });
  assert.is(made.status, 201, await made.clone().text());
  assert.equal((await made.json()).user, { id: 1, email: 'owner@example.com', admin: true });
  // A viewer of the site, then the same e-mail again: granted, not made twice.
  assert.is((await admin('/users', { email: 'viewer@example.com', password: PASSWORD, site: 'shop.example', role: 'viewer' })).status, 201);
  const again = await admin('/users', { email: 'viewer@example.com', site: 'shop.example', role: 'owner' });
  assert.is(again.status, 200);
  assert.is((await again.json()).role, 'owner');
  const after = await fetch(`${edge!.base}/setup`);
  assert.is(after.status, 404);
  assert.match(await after.text(), /first account exists/);
});

btest('Chromium logs in and reads the dashboard: Node\'s numbers from the site object, the map from the bundled geometry', async () => {
  const tables = await loadCountryTables();
  const country = (ip: string) => lookupCountry(tables, truncateIp(ip, 'default')!);
  assert.equal([country(VISITS[0].ip), country(VISITS[4].ip), country(VISITS[7].ip)], ['GB', 'DE', 'JP']);
  for (const v of VISITS) {
    const r = await fetch(`${edge!.base}/api/event`, {
      method: 'POST', body: JSON.stringify({ n: 'pageview', u: 'https://shop.example/', d: 'shop.example' }),
      headers: { 'Content-Type': 'text/plain', 'CF-Connecting-IP': v.ip, 'User-Agent': v.ua },
    });
    assert.is(r.status, 202);
    assert.is(r.headers.get('x-hush-dropped'), null, await r.text());
  }
  const ctx = await browser!.newContext({ userAgent: CHROME_UA, locale: 'en-GB' });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(`${edge!.base}/`);
  assert.match(page.url(), /\/login$/, 'an account exists: the login page');
  await page.fill('#email', 'owner@example.com');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  assert.match(page.url(), /\/sites\/shop\.example$/, 'one site: straight to its dashboard');
  assert.is((await page.textContent('[data-metric="visitors"]'))?.trim(), String(VISITS.length));
  const rows = (await page.locator('section.panel[aria-label="Countries"] tbody td.label').allTextContents()).map((x) => x.trim());
  assert.equal(rows, ['🇬🇧 United Kingdom', '🇩🇪 Germany', '(other) ⓘ']);
  assert.is(await page.locator('svg.map a').count(), 2, 'GB and DE shaded');
  assert.is(await page.locator('svg.map a[data-country="GB"] title').textContent(), '🇬🇧 United Kingdom: 4 visitors');
  assert.is(await page.locator('svg.map a[data-country="JP"]').count(), 0, 'JP (1 visitor, below k) has no link');
  assert.ok(((await page.locator('svg.map path.land').getAttribute('d')) ?? '').length > 10_000, 'the land is drawn');

  await page.locator('svg.map a[data-country="DE"]').click();
  assert.match(decodeURIComponent(page.url()), /\/sites\/shop\.example\?f=visit:country:DE$/);
  assert.is((await page.textContent('[data-metric="visitors"]'))?.trim(), '3');

  await page.goto(`${edge!.base}/sites/shop.example/privacy`);
  assert.match((await page.textContent('[data-key-age]')) ?? '', /minutes|hours/, 'the site object\'s key age');
  assert.equal(problems, [], 'no console errors (CSP)');
  await ctx.close();
});

btest('a time zone changed in the settings page: the site object drops the rollups cut in the old one and builds them again', async () => {
  const { key } = await (await admin('/keys?site=shop.example')).json();
  const hours = async () => {
    const r = await fetch(`${edge!.base}/api/v2/query`, {
      method: 'POST', headers: { Authorization: `Bearer ${key}` },
      body: JSON.stringify({ site_id: 'shop.example', metrics: ['visitors'], date_range: 'day', dimensions: ['time:hour'] }),
    });
    assert.is(r.status, 200);
    const j = await r.json();
    return { hours: j.results.filter((x: Json) => x.metrics[0] > 0).map((x: Json) => Number(/[ T](\d\d):/.exec(x.dimensions[0])![1])), source: j.meta.source };
  };
  const until = async (ok: (h: Awaited<ReturnType<typeof hours>>) => boolean, what: string) => {
    const end = Date.now() + 20_000;
    for (;;) {
      const h = await hours();
      if (ok(h)) return h;
      if (Date.now() > end) throw new Error(`${what}: ${JSON.stringify(h)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const utcHour = new Date().getUTCHours();
  // The alarm built today's rollups in UTC (HUSH_ROLLUP_MS=1000 here).
  await until((h) => h.source === 'rollups' && h.hours.includes(utcHour), 'rolled up in UTC');

  const ctx = await browser!.newContext({ userAgent: CHROME_UA });
  const page = await ctx.newPage();
  await page.goto(`${edge!.base}/login`);
  await page.fill('#email', 'owner@example.com');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.goto(`${edge!.base}/sites/shop.example/settings`);
  await page.fill('#timezone', 'Asia/Tokyo');
  await page.click('form[action$="/settings"] button[type=submit]');
  assert.match((await page.textContent('p.ok')) ?? '', /Saved/);
  await ctx.close();

  // Within the Worker's 10 s directory refresh, the hours are Tokyo's: read from events first
  // (the old rollups dropped), then from rollups rebuilt by the next round.
  const tokyo = localParts(Date.now(), 'Asia/Tokyo').h;
  const raw = await until((h) => h.hours.includes(tokyo) && !h.hours.includes(utcHour), 'hours in Tokyo');
  assert.not.ok(raw.hours.includes(utcHour));
  await until((h) => h.source === 'rollups' && h.hours.includes(tokyo), 'rolled up again in Tokyo');
});

test('the login limiter counts failures per truncated network: 10 from one /24 lock it, another /24 still may try', async () => {
  const login = async (ip: string, email: string) => {
    const form = await fetch(`${edge!.base}/login`, { headers: { 'CF-Connecting-IP': ip } });
    const cookie = form.headers.get('set-cookie')!.split(';')[0];
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    return (await fetch(`${edge!.base}/login`, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ csrf, email, password: 'wrong password here' }),
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', Origin: edge!.base, 'CF-Connecting-IP': ip },
    })).status;
  };
  // Distinct e-mails: the per-account limit (5) stays out of it.
  const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => login(`203.0.113.${i + 1}`, `nobody${i}@example.com`)));
  assert.equal(statuses, Array(10).fill(401));
  assert.is(await login('203.0.113.200', 'someone@example.com'), 429, 'the same /24, another address: limited');
  assert.is(await login('203.0.114.7', 'someone@example.com'), 401, 'another /24: not limited');
});

test('/api/privacy at the edge states the same facts as Node\'s', async () => {
  await admin('/sites', { domain: 'listed.example', timezone: 'Europe/Paris', retention_days: 400, min_visitors: 5, list_publicly: true });
  const h = await harness();
  try {
    h.core.sites.add({ domain: 'shop.example', timezone: 'UTC' });
    h.core.sites.add({ domain: 'listed.example', timezone: 'Europe/Paris', retentionDays: 400, minVisitors: 5, listed: 1 });
    const node = await (await h.core.app.request('/api/privacy')).json();
    // The Worker's copy of the directory is at most 10 s old.
    const end = Date.now() + 15_000;
    let at: Json;
    do {
      const r = await fetch(`${edge!.base}/api/privacy`);
      assert.is(r.status, 200);
      assert.is(r.headers.get('access-control-allow-origin'), '*');
      at = await r.json();
      if (at.sites.length === 1) break;
      await new Promise((r2) => setTimeout(r2, 300));
    } while (Date.now() < end);
    // The same facts, and one more at the edge: Cloudflare's 30-day recovery of a deleted key.
    assert.match(at.visitor_hash.key_backups, /30 days/);
    assert.is(node.visitor_hash.key_backups, undefined);
    delete at.visitor_hash.key_backups;
    assert.equal(at, node);
    assert.equal(at.sites, [{ domain: 'listed.example', time_zone: 'Europe/Paris', retention_days: 400, min_visitors: 5 }]);
    assert.is(at.k_anonymity.minimum_k, 3, 'the same floor as Node\'s default');
  } finally {
    await h.close();
  }
});

t.run();
