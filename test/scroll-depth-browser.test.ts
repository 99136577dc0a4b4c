// Scroll depth from real scrolled pages in headless Chromium: hush.js and the official Plausible
// tracker (npm) on a tall page of site.test post to a real server on stats.test; the `sd` each
// engagement carried is checked against where the page was scrolled, and the Stats API's
// scroll_depth against the stored rows.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { build } from 'esbuild';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server/node-server.ts';
import { openDb } from '../src/store/db.ts';
import { SiteRepo } from '../src/store/sites.ts';
import { ApiKeyRepo } from '../src/store/api-keys.ts';
import { tempDir } from './helpers/harness.ts';
import { HAVE_CHROME, CHROME_UA, launch, skipNotice } from './helpers/browser.ts';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const TALL = '<div style="height: 5000px; background: linear-gradient(#fff, #ccc)">tall</div>';

let stats: RunningServer | undefined, site: http.Server | undefined, browser: Browser | undefined;
let sitePort = 0, statsPort = 0, dbPath = '', apiKey = '', plausibleBundle = '';
let cleanup = () => {};

const PAGES: Record<string, () => string> = {
  '/long': () => `<!doctype html><html><head><script defer data-domain="site.test" src="http://stats.test:${statsPort}/hush.js"></script></head><body style="margin:0">${TALL}</body></html>`,
  '/plausible-long': () => `<!doctype html><html><body style="margin:0">${TALL}<script>${plausibleBundle}</script></body></html>`,
};

/** The scroll depths stored for a page, in arrival order, once `min` have arrived. */
async function depths(page: string, min: number): Promise<Array<number | null>> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const st = db.prepare(`SELECT e.scroll_depth FROM events e JOIN strings n ON n.id = e.name_id JOIN strings p ON p.id = e.page_id
      WHERE n.value = 'engagement' AND p.value = ? ORDER BY e.id`).pluck();
    const until = Date.now() + 6000;
    for (;;) {
      const r = st.all(page) as Array<number | null>;
      if (r.length >= min || Date.now() > until) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    db.close();
  }
}

/** Opens the page as a new visitor (its own user agent), scrolls to `fraction` of it and leaves. */
async function visit(pathname: string, fraction: number, ua: string, init = ''): Promise<number> {
  const ctx = await browser!.newContext({ userAgent: ua, viewport: { width: 1280, height: 720 } });
  try {
    if (init) await ctx.addInitScript(init);
    const p = await ctx.newPage();
    await p.goto(`http://site.test:${sitePort}${pathname}`);
    await p.waitForTimeout(300);
    // Scroll down in steps (as a reader does), then a little back up: the deepest point counts.
    const expected = await p.evaluate(async (f) => {
      const h = document.documentElement.scrollHeight;
      const target = Math.max(0, f * h - innerHeight);
      for (let y = 0; y <= target; y += 400) { scrollTo(0, y); await new Promise((r) => setTimeout(r, 20)); }
      scrollTo(0, target);
      await new Promise((r) => setTimeout(r, 50));
      const deepest = Math.round(((scrollY + innerHeight) / h) * 100);
      scrollTo(0, target / 2);
      await new Promise((r) => setTimeout(r, 50));
      return deepest;
    }, fraction);
    await p.waitForTimeout(200);
    await p.close({ runBeforeUnload: true });
    return expected;
  } finally {
    await ctx.close();
  }
}

const b = suite('scroll depth in Chromium');

b.before(async () => {
  if (!HAVE_CHROME) return;
  let dir: string;
  ({ dir, cleanup } = tempDir());
  dbPath = path.join(dir, 'hush.db');
  const db = openDb(dbPath);
  const s = new SiteRepo(db.db).add({ domain: 'site.test', minVisitors: 1 });
  apiKey = new ApiKeyRepo(db.db).create(s.id);
  db.close();
  const out = await build({
    stdin: { contents: `import { init } from '@plausible-analytics/tracker';
      init({ domain: 'site.test', endpoint: 'http://stats.test:' + window.HUSH_PORT + '/api/event', logging: false });`, resolveDir: ROOT },
    bundle: true, write: false, format: 'iife', minify: true,
  });
  plausibleBundle = out.outputFiles[0].text;
  stats = await startServer(loadConfig({ HUSH_DB: dbPath, PORT: '0', HOST: '127.0.0.1' }), { log: () => {} });
  statsPort = stats.port;
  site = http.createServer((req, res) => {
    const p = PAGES[(req.url ?? '/').split('?')[0]] as (() => string) | undefined;
    res.writeHead(p ? 200 : 404, { 'Content-Type': 'text/html' });
    res.end(p ? p() : 'not found');
  });
  await new Promise<void>((r) => site!.listen(0, '127.0.0.1', r));
  sitePort = (site.address() as AddressInfo).port;
  browser = await launch(['site.test', 'stats.test']);
});

b.after(async () => {
  await browser?.close();
  site?.close();
  await stats?.close();
  cleanup();
});

const test = HAVE_CHROME ? b : (b.skip as typeof b);
if (!HAVE_CHROME) skipNotice();

const as = (os: string) => CHROME_UA.replace('X11; Linux x86_64', os);
/** ClickHouse's round() on a float, which Plausible's scroll_depth uses: ties to even. */
const halfEven = (a: number, b: number) => {
  const q = Math.floor(a / b), r2 = 2 * (a - q * b);
  return r2 > b || (r2 === b && q % 2 !== 0) ? q + 1 : q;
};

test('hush.js and the Plausible tracker send the deepest point scrolled; the Stats API averages it per page', async () => {
  // Three visitors of /long (different browsers: different visitor ids), two of /plausible-long.
  const want: Record<string, number[]> = { '/long': [], '/plausible-long': [] };
  want['/long'].push(await visit('/long', 0.5, CHROME_UA));
  want['/long'].push(await visit('/long', 1, as('Macintosh; Intel Mac OS X 10_15_7')));
  want['/long'].push(await visit('/long', 0.3, as('Windows NT 10.0; Win64; x64')));
  const plausibleInit = `window.HUSH_PORT = ${statsPort}; Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false });`;
  want['/plausible-long'].push(await visit('/plausible-long', 0.75, as('X11; Ubuntu; Linux x86_64'), plausibleInit));
  want['/plausible-long'].push(await visit('/plausible-long', 0.4, as('X11; CrOS x86_64 14541.0.0'), plausibleInit));
  assert.ok(want['/long'][1] === 100 && want['/long'][0] >= 45 && want['/long'][0] <= 55, JSON.stringify(want));

  for (const [page, expected] of Object.entries(want)) {
    const got = await depths(page, expected.length);
    // One report per visit here (each left once); every one is the deepest point, not where it ended.
    assert.equal(got.filter((x) => x !== null).sort(), [...expected].sort(), `${page}: ${JSON.stringify(got)}`);
  }

  // Cross-check against the stored rows: each visit's deepest report per page, averaged.
  const db = new Database(dbPath, { readonly: true });
  const stored = db.prepare(`SELECT p.value AS page, count(*) AS visits, sum(m) AS total FROM (
      SELECT e.page_id, e.visit_id, max(e.scroll_depth) AS m FROM events e JOIN strings n ON n.id = e.name_id
      WHERE n.value = 'engagement' AND e.scroll_depth IS NOT NULL GROUP BY e.page_id, e.visit_id) JOIN strings p ON p.id = page_id GROUP BY p.value`)
    .all() as Array<{ page: string; visits: number; total: number }>;
  db.close();
  // Today is read from the live rollups, which take new events in rounds (about a second): the
  // last engagement report may be stored but not yet counted, so ask until a round has taken it
  // (10 s at most; the assertions below then say what differs).
  let res: { results: Array<{ dimensions: string[]; metrics: number[] }> } = { results: [] };
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`http://127.0.0.1:${statsPort}/api/v2/query`, {
      method: 'POST', headers: { Authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ site_id: 'site.test', metrics: ['visitors', 'scroll_depth'], date_range: 'day', dimensions: ['event:page'] }),
    });
    assert.is(r.status, 200);
    res = await r.json() as typeof res;
    const counted = (x: { page: string; visits: number; total: number }) => res.results.find((y) => y.dimensions[0] === x.page)?.metrics[1] === halfEven(x.total, x.visits);
    if (stored.every(counted)) break;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  for (const [page, expected] of Object.entries(want)) {
    const row = res.results.find((x) => x.dimensions[0] === page)!;
    const s = stored.find((x) => x.page === page)!;
    assert.is(s.visits, expected.length);
    const mean = expected.reduce((a, x) => a + x, 0) / expected.length;
    assert.ok(Math.abs(row.metrics[1] - mean) <= 0.5, `${page}: API ${row.metrics[1]}, sent ${JSON.stringify(expected)}`);
    assert.is(row.metrics[1], halfEven(s.total, s.visits), `${page}: the stored rows' mean`);
    assert.is(row.metrics[0], expected.length, `${page}: visitors`);
  }
});

b.run();
