// Scroll depth end to end without a browser: `sd` on engagement events through the real app into
// events.scroll_depth, then the Stats API's scroll_depth (Plausible's semantics: per page, the mean
// of each visit's deepest scroll, ties to even) checked against values worked out by hand and
// against the stored rows, its 400s, k-anonymity, the sources it is read from (rollups' page rows,
// day segments) and the Pages panel of the dashboard.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { harness, UA, type Harness } from './helpers/harness.ts';
import { parseEvent } from '../src/collector/payload.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let h: Harness;
let key: string;
let smallKey: string;

async function ask(body: Json, k = key, site = 'example.com'): Promise<{ status: number; json: Json }> {
  const r = await h.core.app.request('/api/v2/query', {
    method: 'POST', body: JSON.stringify({ site_id: site, date_range: 'day', ...body }), headers: { Authorization: `Bearer ${k}` },
  });
  return { status: r.status, json: await r.json() };
}
async function ok(body: Json, k = key, site = 'example.com'): Promise<Json> {
  const r = await ask(body, k, site);
  assert.is(r.status, 200, JSON.stringify(r.json));
  return r.json;
}
const byPage = (res: Json) => Object.fromEntries(res.results.map((r: Json) => [r.dimensions[0], r.metrics]));

// Each visitor (its own IP) views pages and reports engagement with these `sd` values; a string
// is sent as a string. Deepest per page and visit: /a A 80, B 60, C 100 (150 clamped), D none;
// /b A 100, E 40; /c F 50, G 51 → /a 80, /b 70, /c 50.5 → 50 (ties to even, as ClickHouse rounds).
const PLAN: Array<[string, string, Array<[string, unknown[]]>]> = [
  ['A', '81.2.1.9', [['/a', [30, 80, 55]], ['/b', [100]]]],
  ['B', '81.2.2.9', [['/a', [50, '60']]]],
  ['C', '81.2.3.9', [['/a', [150]]]],
  ['D', '81.2.4.9', [['/a', [-5, 12.5, 'x', null]]]],
  ['E', '81.2.5.9', [['/b', [40]]]],
  ['F', '81.2.6.9', [['/c', [50]]]],
  ['G', '81.2.7.9', [['/c', [51]]]],
];

async function play(domain: string): Promise<void> {
  for (const [, ip, pages] of PLAN) {
    for (const [path, depths] of pages) {
      const url = `https://${domain}${path}`;
      let r = await h.post({ n: 'pageview', u: url, d: domain }, { ip, ua: UA.firefox });
      assert.is(r.status, 202);
      for (const sd of depths) {
        h.clock.now += 2000;
        r = await h.post({ n: 'engagement', u: url, d: domain, e: 2000, ...(sd === null ? {} : { sd }) }, { ip, ua: UA.firefox });
        assert.is(r.status, 202, `sd ${JSON.stringify(sd)} is accepted`);
      }
      h.clock.now += 1000;
    }
  }
}

const s = suite('scroll depth');
s.before(async () => {
  h = await harness({ HUSH_BATCH_MS: '0' }, Date.UTC(2026, 5, 15, 10, 0, 0));
  const site = h.core.sites.add({ domain: 'example.com', minVisitors: 1 });
  const small = h.core.sites.add({ domain: 'small.example', minVisitors: 3 });
  h.core.directory.refresh();
  key = h.core.apiKeys.create(site.id);
  smallKey = h.core.apiKeys.create(small.id);
  await play('example.com');
  await play('small.example');
  h.clock.now += 60_000;
});
s.after(() => h.close());

s('sd is parsed as Plausible does: whole numbers 0–100, above 100 clamped, anything else ignored, never a 400', () => {
  const sd = (v: unknown, n = 'engagement') => {
    const p = parseEvent(JSON.stringify({ n, u: 'https://x.test/', d: 'x.test', e: 5, sd: v }));
    assert.ok(p.ok, JSON.stringify(v));
    return p.ok ? p.event.scrollDepth : undefined;
  };
  assert.equal([0, 42, 100, 101, 1e9, '77', -1, 12.5, '12.5', '1e2', '', true, {}, [50], null].map((v) => sd(v)),
    [0, 42, 100, 100, 100, 77, null, null, null, null, null, null, null, null, null]);
  assert.is(sd(50, 'pageview'), null, 'only engagement events carry it');
  const long = parseEvent(JSON.stringify({ name: 'engagement', url: 'https://x.test/', domain: 'x.test', engagement_ms: 5, scroll_depth: 64 }));
  assert.ok(long.ok && long.event.scrollDepth === 64, 'the long key too');
});

s('stored on engagement rows only: the deepest point each report carried, NULL elsewhere', () => {
  const db = new Database(h.dbPath, { readonly: true });
  try {
    const pv = db.prepare("SELECT count(*) FROM events e JOIN strings n ON n.id = e.name_id WHERE n.value = 'pageview' AND e.scroll_depth IS NOT NULL").pluck().get();
    assert.is(pv, 0, 'no page view has a scroll depth');
    const sds = db.prepare(`SELECT e.scroll_depth FROM events e JOIN strings n ON n.id = e.name_id JOIN sites s ON s.id = e.site_id
      WHERE n.value = 'engagement' AND s.domain = 'example.com' ORDER BY e.id`).pluck().all();
    assert.equal(sds, [30, 80, 55, 100, 50, 60, 100, null, null, null, null, 40, 50, 51]);
  } finally {
    db.close();
  }
});

s('scroll_depth by event:page: the mean of each visit\'s deepest scroll, rounded half to even', async () => {
  const res = await ok({ metrics: ['visitors', 'pageviews', 'scroll_depth'], dimensions: ['event:page'] });
  assert.equal(byPage(res), { '/a': [4, 4, 80], '/b': [2, 2, 70], '/c': [2, 2, 50] });
  assert.is(res.meta.source, 'raw', 'a day not rolled up yet: read from events (day segments)');
  // The other metrics are those of the same query without scroll depth.
  h.core.refreshRollups();
  const plain = await ok({ metrics: ['visitors', 'pageviews'], dimensions: ['event:page'] });
  assert.equal(byPage(plain), { '/a': [4, 4], '/b': [2, 2], '/c': [2, 2] });
  const built = await ok({ metrics: ['visitors', 'pageviews', 'scroll_depth'], dimensions: ['event:page'] });
  assert.equal(byPage(built), byPage(res), 'same after the rollups are built');
  assert.is(built.meta.source, 'rollups', 'then read from the rollups\' page rows');
  const db = new Database(h.dbPath, { readonly: true });
  try {
    // /a: A 80, B 60, C 100 (D sent none) → 240 over 3 visits.
    const row = db.prepare(`SELECT d.scroll_sum, d.scroll_n FROM daily_stats d JOIN sites s ON s.id = d.site_id
      WHERE s.domain = 'example.com' AND d.dim = 1 AND d.value = '/a'`).raw(true).get();
    assert.equal(row, [240, 3]);
    assert.is(db.prepare('SELECT count(*) FROM daily_stats WHERE dim != 1 AND scroll_n IS NOT NULL').pluck().get(), 0, 'only page rows carry them');
  } finally {
    db.close();
  }
});

s('scroll_depth with a page filter: per visit, the deepest among the filtered pages', async () => {
  assert.equal((await ok({ metrics: ['scroll_depth'], filters: [['is', 'event:page', ['/a']]] })).results[0].metrics, [80]);
  // A 100 (/b deeper than /a), B 60, C 100, E 40 → 75.
  assert.equal((await ok({ metrics: ['visitors', 'scroll_depth'], filters: [['is', 'event:page', ['/a', '/b']]] })).results[0].metrics, [5, 75]);
  // A page without any report: null, as Plausible answers.
  assert.equal((await ok({ metrics: ['scroll_depth'], filters: [['is', 'event:page', ['/nowhere']]] })).results[0].metrics, [null]);
  const days = await ok({ metrics: ['scroll_depth'], dimensions: ['time:day'], filters: [['contains', 'event:page', ['/c']]] });
  assert.equal(days.results.map((r: Json) => [r.dimensions[0], r.metrics[0]]), [['2026-06-15', 50]]);
  // With a visit filter beside it, and a comparison (none before: null, change null).
  const cmp = await ok({ metrics: ['scroll_depth'], dimensions: ['event:page'], filters: [['is', 'visit:browser', ['Firefox']]], include: { comparison: 'previous_period' } });
  assert.equal(cmp.results.find((r: Json) => r.dimensions[0] === '/a').comparison.metrics, [null]);
  assert.equal(cmp.results.find((r: Json) => r.dimensions[0] === '/a').metrics, [80]);
});

s('scroll_depth without an event:page dimension or top-level filter is a 400 naming it', async () => {
  for (const body of [
    { metrics: ['scroll_depth'] },
    { metrics: ['visitors', 'scroll_depth'], dimensions: ['visit:source'] },
    { metrics: ['scroll_depth'], filters: [['or', [['is', 'event:page', ['/a']], ['is', 'event:page', ['/b']]]]] },
    { metrics: ['scroll_depth'], filters: [['not', ['is', 'event:page', ['/a']]]] },
  ]) {
    const r = await ask(body);
    assert.is(r.status, 400, JSON.stringify(body));
    assert.is(r.json.error, '"metrics": scroll_depth needs an event:page filter or dimension');
  }
});

s('k-anonymity: pages with fewer than k visitors fold into "(other)", whose depth is over all their visits', async () => {
  const res = await ok({ metrics: ['visitors', 'scroll_depth'], dimensions: ['event:page'] }, smallKey, 'small.example');
  // /a has 4 visitors; /b (A, E) and /c (F, G) fold: A 100, E 40, F 50, G 51 → 60.25 → 60.
  assert.equal(res.results.map((r: Json) => [r.dimensions[0], ...r.metrics]), [['/a', 4, 80], ['(other)', 4, 60]]);
  const filtered = await ask({ metrics: ['scroll_depth'], filters: [['is', 'event:page', ['/b']]] }, smallKey, 'small.example');
  assert.is(filtered.json.results[0].metrics[0], null, 'a page of 2 visitors is suppressed');
  assert.ok(filtered.json.meta.suppressed);
});

s('the dashboard\'s Pages panel shows a Scroll depth column with the Stats API\'s numbers, unfiltered and filtered by a page', async () => {
  const cookies = new Map<string, string>();
  const go = async (path: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = { Cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (form) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const r = await h.core.app.request(path, { method: form ? 'POST' : 'GET', headers, body: form && new URLSearchParams(form).toString() }, { peer: '198.51.100.7' });
    for (const c of r.headers.getSetCookie()) {
      const [k, v] = c.split(';')[0].split('=');
      if (v) cookies.set(k, v); else cookies.delete(k);
    }
    return r;
  };
  // A page no engagement report came from: "—", as for any metric without a value.
  assert.is((await h.post({ n: 'pageview', u: 'https://example.com/plain', d: 'example.com' }, { ip: '81.2.9.9', ua: UA.firefox })).status, 202);
  h.core.refreshRollups();
  const csrf = /name="csrf" value="([^"]+)"/.exec(await (await go('/setup')).text())![1];
  const pw = 'correct horse battery';
  assert.is((await go('/setup', { csrf, email: 'admin@example.com', password: pw, password2: pw })).status, 303);
  const panel = async (query: string) => {
    const page = await (await go(`/sites/example.com?period=day${query}`)).text();
    const at = page.indexOf('aria-label="Pages"');
    return page.slice(at, page.indexOf('</section>', at));
  };
  const pages = await panel('');
  assert.match(pages, /<th scope="col" class="num">Scroll depth<\/th>/);
  const api = byPage(await ok({ metrics: ['visitors', 'pageviews', 'scroll_depth'], dimensions: ['event:page'] }));
  assert.equal(api['/plain'], [1, 1, null]);
  for (const [p, [v, pv, sd]] of Object.entries(api) as Array<[string, Array<number | null>]>) {
    assert.match(pages, new RegExp(`>${p}</a></td><td class="num">${v}</td><td class="num">${pv}</td><td class="num">${sd === null ? '—' : `${sd}%`}</td>`), p);
  }
  // Filtered by a page (a click on its row): that page's row, from day segments.
  const filtered = await panel(`&f=${encodeURIComponent('event:page:/a')}`);
  assert.match(filtered, />\/a<\/a><\/td><td class="num">4<\/td><td class="num">4<\/td><td class="num">80%<\/td>/);
});

s.run();
