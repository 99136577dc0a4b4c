// hush.js in real headless Chromium: a page on site.test embeds the script from the collector on
// stats.test (another port: cross-origin, not localhost), and each behaviour is checked in the
// database the real server writes. Also the official Plausible tracker against the same server,
// the pixel, the size budget and how /hush.js is served.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'esbuild';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server/node-server.ts';
import { openDb } from '../src/store/db.ts';
import { SiteRepo } from '../src/store/sites.ts';
import { tempDir, EVENTS_WITH_VISITS } from './helpers/harness.ts';
import { HAVE_CHROME, CHROME_UA, launch, skipNotice } from './helpers/browser.ts';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
type Row = Record<string, unknown>;

let stats: RunningServer, site: http.Server, sitePort = 0, statsPort = 0, browser: Browser;
let dbPath = '', cleanup = () => {};
let plausibleBundle = '';

/** The HTML of a test page: the snippet plus whatever the test needs. */
function page(body: string, attrs = 'data-outbound data-downloads', head = ''): string {
  return `<!doctype html><html><head><title>t</title>${head}
<script defer data-domain="site.test" ${attrs} src="http://stats.test:${statsPort}/hush.js"></script></head>
<body>${body}</body></html>`;
}

const spa = () => page('<button id="go" onclick="history.pushState({}, \'\', location.pathname + \'/step-2\')">go</button>'
  + '<button id="same" onclick="history.replaceState({}, \'\', location.pathname)">same</button>');
const PAGES: Record<string, { status?: number; html: () => string; type?: string }> = {
  '/': { html: () => page('<h1>home</h1><a id="out" href="https://external.test/landing">out</a><a id="dl" href="/files/report.pdf">pdf</a><a id="in" href="/about">in</a>') },
  '/about': { html: () => page('<h1>about</h1>') },
  '/spa': { html: spa },
  '/spa-engage': { html: spa },
  '/hashapp': { html: () => page('<a id="h" href="#/settings">settings</a>', 'data-hash') },
  '/events': {
    html: () => page('<button id="buy" onclick="hush(\'Purchase\', {props: {plan: \'pro\'}, revenue: {amount: 9.5, currency: \'EUR\'}})">buy</button>', '',
      '<script>window.hush = window.hush || function () { (hush.q = hush.q || []).push(arguments) }; hush("Early Bird", {props: {queued: "yes"}});</script>'),
  },
  '/excluded/secret': { html: () => page('<h1>x</h1>', 'data-exclude="/excluded/*"') },
  '/plausible': {
    html: () => `<!doctype html><html><body><button id="signup">signup</button><script>${plausibleBundle}</script></body></html>`,
  },
  '/first-party': { html: () => `<!doctype html><html><head><script defer data-domain="site.test" data-api="http://stats.test:${statsPort}/api/event" src="/js/hush.js"></script></head><body>fp</body></html>` },
  '/js/hush.js': { html: () => readFileSync(path.join(ROOT, 'public/hush.js'), 'utf8'), type: 'application/javascript' },
  '/read': { html: () => page('<h1>a long read</h1>', '') },
  '/hidden': { html: () => page('<h1>hidden</h1>', '') },
  '/local': { html: () => page('<h1>local</h1>', 'data-local') },
  '/callback': { html: () => page('<h1>cb</h1>', '') },
  '/files/report.pdf': { html: () => '%PDF-1.4 not really', type: 'application/pdf' },
};

async function rows(where: string, min: number, timeoutMs = 6000): Promise<Row[]> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const stmt = db.prepare(`SELECT * FROM ${EVENTS_WITH_VISITS} WHERE ${where} ORDER BY id`);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = stmt.all() as Row[];
      if (r.length >= min || Date.now() > until) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    db.close();
  }
}

async function context(init?: string, userAgent = CHROME_UA): Promise<{ ctx: BrowserContext; p: Page }> {
  const ctx = await browser.newContext({ userAgent });
  if (init) await ctx.addInitScript(init);
  return { ctx, p: await ctx.newPage() };
}

const url = (p: string) => `http://site.test:${sitePort}${p}`;

const b = suite('beacon in Chromium');

b.before(async () => {
  if (!HAVE_CHROME) return;
  let dir: string;
  ({ dir, cleanup } = tempDir());
  dbPath = path.join(dir, 'hush.db');
  const db = openDb(dbPath);
  new SiteRepo(db.db).add({ domain: 'site.test' });
  db.close();
  // The official Plausible tracker (npm), bundled for the page, posting to Hush.
  const out = await build({
    stdin: { contents: `import { init, track } from '@plausible-analytics/tracker';
      init({ domain: 'site.test', endpoint: window.HUSH_ENDPOINT, outboundLinks: true, logging: false });
      document.getElementById('signup').addEventListener('click', () => track('Signup', { props: { method: 'email' } }));`, resolveDir: ROOT },
    bundle: true, write: false, format: 'iife', minify: true,
  });
  plausibleBundle = out.outputFiles[0].text;
  stats = await startServer(loadConfig({ HUSH_DB: dbPath, PORT: '0', HOST: '127.0.0.1' }), { log: () => {} });
  statsPort = stats.port;
  site = http.createServer((req, res) => {
    const p = PAGES[(req.url ?? '/').split('?')[0]];
    if (!p) {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      return res.end(page('<h1>not found</h1>'));
    }
    res.writeHead(p.status ?? 200, { 'Content-Type': p.type ?? 'text/html' });
    res.end(p.html());
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  sitePort = (site.address() as AddressInfo).port;
  browser = await launch(['site.test', 'stats.test']);
});

b.after(async () => {
  if (!HAVE_CHROME) return;
  await browser?.close();
  site?.close();
  await stats?.close();
  cleanup();
});

const test = HAVE_CHROME ? b : (b.skip as typeof b);
if (!HAVE_CHROME) skipNotice();

test('a page view with the seeds metadata: bytes, status, screen, language, load time', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/'));
  const [pv] = await rows("name = 'pageview' AND pathname = '/'", 1);
  assert.ok(pv, 'page view stored');
  assert.is(pv.hostname, 'site.test');
  assert.is(pv.status, 200);
  assert.ok((pv.bytes as number) > 0, `bytes ${pv.bytes}`);
  assert.is(pv.screen, 'laptop'); // headless default 1280 px
  assert.is(pv.language, 'en-US');
  assert.ok((pv.load_ms as number) >= 0);
  assert.equal([pv.browser, pv.device], ['Chrome', 'desktop']);
  await ctx.close();
});

test('the referrer becomes a source and channel', async () => {
  // Every context here shares 127.0.0.1 and one UA, so one visit: a new UA makes a new visitor,
  // whose visit (and so its events) takes its source from this first page view.
  const { ctx, p } = await context(undefined, CHROME_UA.replace('Chrome/156', 'Chrome/155'));
  await p.goto(url('/about?from=search'), { referer: 'https://www.google.com/' });
  const r = await rows("name = 'pageview' AND pathname = '/about' AND source = 'Google'", 1);
  assert.equal([r[0]?.referrer, r[0]?.channel], ['google.com/', 'search']);
  await ctx.close();
});

test('SPA navigations count once per URL; replaceState to the same URL does not', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/spa'));
  await p.click('#go');
  await p.click('#same');
  await p.goBack(); // popstate back to /spa
  const r = await rows("name = 'pageview' AND pathname LIKE '/spa%'", 3);
  assert.equal(r.map((e) => e.pathname), ['/spa', '/spa/step-2', '/spa']);
  await ctx.close();
});

test('hash routing with data-hash', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/hashapp'));
  await p.click('#h');
  const r = await rows("name = 'pageview' AND pathname LIKE '/hashapp%'", 2);
  assert.equal(r.map((e) => e.pathname), ['/hashapp', '/hashapp#/settings']);
  await ctx.close();
});

test('custom events with props and revenue, including one queued before the script loaded', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/events'));
  await p.click('#buy');
  const r = await rows("name IN ('Purchase', 'Early Bird')", 2);
  const byName = Object.fromEntries(r.map((e) => [e.name, e]));
  assert.is(byName['Early Bird'].props, '{"queued":"yes"}');
  assert.is(byName.Purchase.props, '{"plan":"pro"}');
  assert.equal([byName.Purchase.revenue_amount, byName.Purchase.revenue_currency], [9.5, 'EUR']);
  await ctx.close();
});

test('outbound and download clicks are events with the URL, and navigation is not blocked', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/'));
  await p.click('#dl');
  await p.goto(url('/'));
  const nav = p.waitForURL(/external\.test/, { waitUntil: 'commit' }).catch(() => undefined);
  await p.click('#out', { noWaitAfter: true });
  await nav;
  const r = await rows("name IN ('Outbound Link: Click', 'File Download')", 2);
  const byName = Object.fromEntries(r.map((e) => [e.name, JSON.parse(e.props as string).url]));
  assert.is(byName['Outbound Link: Click'], 'https://external.test/landing');
  assert.is(byName['File Download'], url('/files/report.pdf'));
  await ctx.close();
});

test('a page answered with 404 records its status', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/no-such-page'));
  const [e] = await rows("name = 'pageview' AND pathname = '/no-such-page'", 1);
  assert.is(e?.status, 404);
  await ctx.close();
});

test('engagement: visible time is reported when the page is hidden', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/read'));
  await rows("name = 'pageview' AND pathname = '/read'", 1);
  await p.waitForTimeout(1200);
  await p.close({ runBeforeUnload: true });
  const [e] = await rows("name = 'engagement' AND pathname = '/read'", 1);
  assert.ok(e, 'engagement stored');
  assert.ok((e.engagement_ms as number) >= 1000, `engagement ${e.engagement_ms}`);
  await ctx.close();
});

for (const [label, init] of [
  ['navigator.doNotTrack = "1"', "Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' });"],
  ['navigator.globalPrivacyControl = true', "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });"],
  ['localStorage.hush_ignore = "true"', "localStorage.setItem('hush_ignore', 'true');"],
] as const) {
  test(`opt-out: ${label} sends nothing`, async () => {
    const marker = `/about?optout=${encodeURIComponent(label)}`;
    const sent: string[] = [];
    const { ctx, p } = await context(init);
    p.on('request', (r) => { if (r.url().includes('/api/event')) sent.push(r.url()); });
    await p.goto(url(marker));
    await p.evaluate(() => (window as unknown as { hush: (n: string) => void }).hush('Should Not Send'));
    await p.waitForTimeout(400);
    await ctx.close();
    assert.equal(sent, [], 'no request to the collector');
  });
}

test('localhost is not counted unless data-local', async () => {
  const sent: string[] = [];
  const { ctx, p } = await context();
  p.on('request', (r) => { if (r.url().includes('/api/event')) sent.push(r.url()); });
  await p.goto(`http://localhost:${sitePort}/about?local=no`);
  await p.waitForTimeout(300);
  assert.equal(sent, [], 'nothing sent from localhost without data-local');
  await p.goto(`http://localhost:${sitePort}/local`);
  const [e] = await rows("name = 'pageview' AND pathname = '/local' AND hostname = 'localhost'", 1);
  assert.ok(e, 'counted with data-local');
  await ctx.close();
});

test('data-api: a first-party copy of the script posts where data-api says', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/first-party'));
  const [e] = await rows("name = 'pageview' AND pathname = '/first-party'", 1);
  assert.ok(e);
  await ctx.close();
});

test('a page opened hidden (background tab, prerender) counts only once shown', async () => {
  const { ctx, p } = await context(`
    let state = 'hidden';
    Object.defineProperty(Document.prototype, 'visibilityState', { get: () => state, configurable: true });
    window.__show = () => { state = 'visible'; document.dispatchEvent(new Event('visibilitychange')); };`);
  await p.goto(url('/hidden'));
  await p.waitForTimeout(500);
  assert.is((await rows("name = 'pageview' AND pathname = '/hidden'", 0, 0)).length, 0, 'nothing while hidden');
  await p.evaluate('window.__show()');
  const after = await rows("name = 'pageview' AND pathname = '/hidden'", 1);
  assert.is(after.length, 1, 'counted once shown');
  await ctx.close();
});

test('an SPA navigation reports the engagement of the page it leaves', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/spa-engage'));
  await p.waitForTimeout(700);
  await p.click('#go');
  const [e] = await rows("name = 'engagement' AND pathname = '/spa-engage'", 1);
  assert.ok(e, 'engagement for /spa');
  assert.ok((e.engagement_ms as number) >= 500, `engagement ${e.engagement_ms}`);
  await ctx.close();
});

test('window.hush callback receives the answer', async () => {
  const { ctx, p } = await context();
  await p.goto(url('/callback'));
  // A string, not a function: tsx's helpers do not exist in the page.
  const status = await p.evaluate("new Promise((resolve) => hush('Callback Test', { callback: (r) => resolve(r.status) }))");
  assert.is(status, 202);
  await ctx.close();
});

test('data-exclude: an excluded path sends nothing', async () => {
  const sent: string[] = [];
  const { ctx, p } = await context();
  p.on('request', (r) => { if (r.url().includes('/api/event')) sent.push(r.url()); });
  await p.goto(url('/excluded/secret'));
  await p.waitForTimeout(300);
  await ctx.close();
  assert.equal(sent, []);
});

test('the official Plausible tracker (npm) posts page views and events that land', async () => {
  // The tracker ignores automated browsers (navigator.webdriver, which Playwright sets); a
  // visitor's browser does not set it, so the test page looks like one.
  const { ctx, p } = await context(`window.HUSH_ENDPOINT = 'http://stats.test:${statsPort}/api/event';
    Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false });`);
  await p.goto(url('/plausible'));
  await p.click('#signup');
  const r = await rows("pathname = '/plausible' AND name IN ('pageview', 'Signup')", 2);
  assert.equal(r.map((e) => e.name).sort(), ['Signup', 'pageview']);
  assert.is(r.find((e) => e.name === 'Signup')!.props, '{"method":"email"}');
  await ctx.close();
});

b.run();

const served = suite('hush.js as served, the pixel, the size budget');
let h2: RunningServer, dir2: { dir: string; cleanup(): void };
served.before(async () => {
  dir2 = tempDir();
  const db = openDb(path.join(dir2.dir, 'h.db'));
  new SiteRepo(db.db).add({ domain: 'example.com' });
  db.close();
  h2 = await startServer(loadConfig({ HUSH_DB: path.join(dir2.dir, 'h.db'), PORT: '0', HOST: '127.0.0.1' }), { log: () => {} });
});
served.after(async () => {
  await h2.close();
  dir2.cleanup();
});

served('public/hush.js is within 1,536 bytes gzipped', () => {
  const size = gzipSync(readFileSync(path.join(ROOT, 'public/hush.js')), { level: 9 }).length;
  console.log(`hush.js gzipped: ${size} bytes`);
  assert.ok(size <= 1536, `${size} bytes gzipped`);
});

served('GET /hush.js: JavaScript, cacheable, ETag and 304', async () => {
  const base = `http://127.0.0.1:${h2.port}`;
  const r = await fetch(`${base}/hush.js`);
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type')!, /javascript/);
  assert.match(r.headers.get('cache-control')!, /max-age=86400/);
  const etag = r.headers.get('etag')!;
  assert.ok(etag);
  assert.is(await r.text(), readFileSync(path.join(ROOT, 'public/hush.js'), 'utf8'));
  const again = await fetch(`${base}/hush.js`, { headers: { 'If-None-Match': etag } });
  assert.is(again.status, 304);
});

served('GET /api/event.gif: a 43-byte GIF, no-store, CORS/CORP, and the hit is recorded', async () => {
  const base = `http://127.0.0.1:${h2.port}`;
  const r = await fetch(`${base}/api/event.gif?d=example.com&u=${encodeURIComponent('https://example.com/noscript?utm_source=x')}&r=${encodeURIComponent('https://duckduckgo.com/')}`, {
    headers: { 'User-Agent': CHROME_UA },
  });
  assert.is(r.status, 200);
  assert.is(r.headers.get('content-type'), 'image/gif');
  assert.is(r.headers.get('cache-control'), 'no-store');
  assert.is(r.headers.get('access-control-allow-origin'), '*');
  assert.is(r.headers.get('cross-origin-resource-policy'), 'cross-origin');
  const gif = new Uint8Array(await r.arrayBuffer());
  assert.is(gif.length, 43);
  assert.is(new TextDecoder().decode(gif.slice(0, 6)), 'GIF89a');
  // the page defaults to the Referer (the page embedding the <img>)
  const viaReferer = await fetch(`${base}/api/event.gif?d=example.com`, { headers: { 'User-Agent': CHROME_UA, Referer: 'https://example.com/from-referer' } });
  assert.is(viaReferer.status, 200);
  const bad = await fetch(`${base}/api/event.gif?d=example.com&u=nope`, { headers: { 'User-Agent': CHROME_UA } });
  assert.is(bad.status, 400);
  assert.match(bad.headers.get('x-hush-error')!, /"url"/);
  const db = new Database(path.join(dir2.dir, 'h.db'), { readonly: true });
  const stored = db.prepare(`SELECT pathname, source, channel, utm_source FROM ${EVENTS_WITH_VISITS} WHERE name = 'pageview' ORDER BY id`).all() as Row[];
  db.close();
  assert.equal(stored.map((e) => e.pathname), ['/noscript', '/from-referer']);
  assert.equal([stored[0].source, stored[0].channel, stored[0].utm_source], ['x', 'search', 'x']);
});

served.run();
