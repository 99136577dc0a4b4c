// POST /api/event through the real Hono app into a real SQLite file: answers, drop reasons,
// bad input, CORS, what a stored row holds, visits, and the first Stats API query.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, UA, EVENTS_WITH_VISITS, VISITS_DECODED, type Harness } from './helpers/harness.ts';

type Row = Record<string, unknown>;
const events = (h: Harness, where = '1=1'): Row[] => h.core.store.sqlite.prepare(`SELECT * FROM ${EVENTS_WITH_VISITS} WHERE ${where} ORDER BY id`).all() as Row[];
const visits = (h: Harness): Row[] => h.core.store.sqlite.prepare(`SELECT * FROM ${VISITS_DECODED} ORDER BY id`).all() as Row[];

async function setup(env: Record<string, string> = {}): Promise<Harness> {
  const h = await harness(env);
  h.core.sites.add({ domain: 'example.com', timezone: 'Europe/Helsinki' });
  h.core.sites.add({ domain: 'other.org', excludePaths: '/admin/*,/drafts/**' });
  h.core.directory.refresh();
  return h;
}

const pv = (extra: Record<string, unknown> = {}) => ({ n: 'pageview', u: 'https://example.com/', d: 'example.com', ...extra });

// ---------------------------------------------------------------------------------------------
const wire = suite('collect: accepted hits');
let h: Harness;
wire.before.each(async () => { h = await setup(); });
wire.after.each(() => h.close());

wire('202 with an empty body, CORS, stored after commit', async () => {
  const r = await h.post(pv());
  assert.is(r.status, 202);
  assert.is(r.headers.get('access-control-allow-origin'), '*');
  assert.is(r.headers.get('x-hush-dropped'), null);
  assert.is(await r.text(), '');
  assert.is(events(h).length, 1, 'the 202 comes after the row is committed');
});

wire('long keys with application/json, short keys with text/plain', async () => {
  const a = await h.post(JSON.stringify({ name: 'pageview', url: 'https://example.com/a', domain: 'example.com' }), { headers: { 'Content-Type': 'application/json' } });
  const b = await h.post(pv({ u: 'https://example.com/b' }));
  assert.equal([a.status, b.status], [202, 202]);
  assert.equal(events(h).map((e) => e.pathname), ['/a', '/b']);
});

wire('a stored row: path without query, utm kept, families only, seeds metadata', async () => {
  await h.post(pv({
    u: 'https://example.com/pricing?utm_source=newsletter&utm_medium=email&token=SECRET', r: 'https://news.ycombinator.com/item?id=1',
    sw: 1440, sh: 900, l: 'fi-FI', b: 20480, s: 200, lt: 640, p: { plan: 'pro' }, $: { amount: 10, currency: 'EUR' },
  }), { ua: UA.chromeMac, headers: { 'Accept-Language': 'en-US' } });
  const [e] = events(h);
  assert.is(e.pathname, '/pricing');
  assert.is(e.utm_source, 'newsletter');
  assert.is(e.channel, 'email');
  assert.is(e.referrer, 'news.ycombinator.com/item');
  assert.equal([e.browser, e.browser_version, e.os, e.os_version, e.device], ['Chrome', '120', 'macOS', '10.15', 'desktop']);
  assert.equal([e.language, e.screen, e.bytes, e.status, e.load_ms], ['fi-FI', 'desktop', 20480, 200, 640]);
  assert.is(e.props, '{"plan":"pro"}');
  assert.equal([e.revenue_amount, e.revenue_currency], [10, 'EUR']);
  assert.not.ok(JSON.stringify(e).includes('SECRET'), 'query parameters outside the allow-list are dropped');
});

wire('language falls back to Accept-Language', async () => {
  await h.post(pv(), { headers: { 'Accept-Language': 'sv-SE,sv;q=0.9' } });
  assert.is(events(h)[0].language, 'sv-SE');
});

wire('country comes from the truncated prefix', async () => {
  await h.post(pv(), { ip: '8.8.8.8' });
  await h.post(pv(), { ip: '2001:4860:4860::8888' });
  await h.post(pv(), { ip: '::ffff:1.1.1.1' });
  assert.equal(events(h).map((e) => e.country), ['US', 'US', 'AU']);
});

wire('several domains: one row per known site, www. ignored', async () => {
  const r = await h.post(pv({ d: 'www.example.com,other.org,unknown.net' }));
  assert.is(r.status, 202);
  const rows = events(h);
  assert.is(rows.length, 2);
  assert.is.not(rows[0].visitor_id, rows[1].visitor_id, 'no visitor id spans two sites');
});

wire('an engagement event is stored and lengthens the visit', async () => {
  await h.post(pv());
  h.clock.now += 40_000;
  const r = await h.post({ n: 'engagement', u: 'https://example.com/', d: 'example.com', e: 40_000 });
  assert.is(r.status, 202);
  const [v] = visits(h);
  assert.equal([v.pageviews, v.engagement_ms, (v.end_ts as number) - (v.start_ts as number), v.bounce], [1, 40_000, 40_000, 1]);
});

wire.run();

// ---------------------------------------------------------------------------------------------
const drops = suite('collect: dropped on purpose (202 + X-Hush-Dropped, nothing stored)');
drops.before.each(async () => { h = await setup(); });
drops.after.each(() => h.close());

const dropCases: Array<[string, unknown, { ua?: string; headers?: Record<string, string> }, string]> = [
  ['DNT: 1', pv(), { headers: { DNT: '1' } }, 'opt_out'],
  ['Sec-GPC: 1', pv(), { headers: { 'Sec-GPC': '1' } }, 'opt_out'],
  ['unknown site', pv({ d: 'nobody.example' }), {}, 'unknown_site'],
  ['bot user-agent', pv(), { ua: UA.googlebot }, 'bot'],
  ['missing user-agent', pv(), { ua: '' }, 'bot'],
  ['excluded path', pv({ d: 'other.org', u: 'https://other.org/admin/users' }), {}, 'excluded'],
  ['excluded deep path', pv({ d: 'other.org', u: 'https://other.org/drafts/2026/x' }), {}, 'excluded'],
  ['referrer spam', pv({ r: 'https://0-0.fr/' }), {}, 'referrer_spam'],
  ['engagement without a visit', { n: 'engagement', u: 'https://example.com/', d: 'example.com', e: 5000 }, {}, 'no_visit'],
];
for (const [label, body, opts, reason] of dropCases) {
  drops(label, async () => {
    const r = await h.post(body, opts);
    assert.is(r.status, 202);
    assert.is(r.headers.get('x-hush-dropped'), reason);
    assert.is(events(h).length, 0);
    assert.is(visits(h).length, 0);
  });
}

drops('an allowed path on a site with exclusions is stored', async () => {
  const r = await h.post(pv({ d: 'other.org', u: 'https://other.org/administer' }));
  assert.is(r.headers.get('x-hush-dropped'), null);
  assert.is(events(h).length, 1);
});

drops.run();

// ---------------------------------------------------------------------------------------------
const bad = suite('collect: bad input');
bad.before.each(async () => { h = await setup(); });
bad.after.each(() => h.close());

bad('400 with a JSON error naming the problem', async () => {
  for (const [body, re] of [
    ['not json', /not valid JSON/],
    [JSON.stringify({ n: 'pageview', d: 'example.com' }), /"url" is required/],
    [JSON.stringify(pv({ u: 'javascript:alert(1)' })), /"url" must be an absolute http\(s\) URL/],
    [JSON.stringify(pv({ u: 'example.com/x' })), /"url" must be an absolute/],
  ] as Array<[string, RegExp]>) {
    const r = await h.post(body);
    assert.is(r.status, 400, body);
    assert.is(r.headers.get('content-type'), 'application/json');
    assert.match((await r.json()).error, re);
  }
  assert.is(events(h).length, 0);
});

bad('413 for a body over 8 KiB', async () => {
  const r = await h.post(pv({ p: { big: 'x'.repeat(1900), a: 'x'.repeat(1900), b: 'x'.repeat(1900), c: 'x'.repeat(1900), d: 'x'.repeat(1900) } }));
  assert.is(r.status, 413);
  assert.match((await r.json()).error, /8192 bytes/);
});

bad('no input gives a 5xx: random and hostile bodies', async () => {
  const bodies = [
    '{}', 'null', '[]', '0', '"\\u0000"', '{"n":{},"u":[],"d":1}', '{"n":"pageview","u":"https://example.com/","d":"example.com","p":"null"}',
    '{"n":"pageview","u":"https://example.com/","d":"example.com","$":"[]"}', '{"__proto__":{"n":"x"}}',
    '{"n":"pageview","u":"http://[::1/","d":"example.com"}', '\uFEFF{"n":"pageview"}', '{"n":"pageview","u":"https://example.com/","d":"example.com","sw":1e400}',
    '{"n":"pageview","u":"https://example.com/%","d":"example.com","r":"%%%"}',
  ];
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = '{}[]":,\\ npuder0123456789.-abc\u00e9\u{1F600}';
  for (let i = 0; i < 300; i++) {
    let s = '';
    const len = Math.floor(rnd() * 60);
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    bodies.push(s);
  }
  for (const body of bodies) {
    const r = await h.post(body);
    assert.ok(r.status === 202 || r.status === 400, `${r.status} for ${JSON.stringify(body)}`);
  }
});

bad('CORS preflight', async () => {
  const r = await h.core.app.request('/api/event', { method: 'OPTIONS', headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'POST' } });
  assert.is(r.status, 204);
  assert.is(r.headers.get('access-control-allow-origin'), '*');
  assert.match(r.headers.get('access-control-allow-methods')!, /POST/);
  assert.match(r.headers.get('access-control-allow-headers')!, /Content-Type/);
  assert.is(r.headers.get('access-control-allow-credentials'), null);
});

bad('healthz and unknown routes', async () => {
  const ok = await h.core.app.request('/healthz');
  assert.is(ok.status, 200);
  assert.is((await ok.json()).status, 'ok');
  const nf = await h.core.app.request('/nope');
  assert.is(nf.status, 404);
});

bad.run();

// ---------------------------------------------------------------------------------------------
const vis = suite('visits');
vis.before.each(async () => { h = await setup(); });
vis.after.each(() => h.close());

vis('gaps under 30 minutes continue a visit; 30 minutes or more start a new one', async () => {
  await h.post(pv({ u: 'https://example.com/a' }));
  h.clock.now += 29 * 60_000;
  await h.post(pv({ u: 'https://example.com/b' }));
  h.clock.now += 30 * 60_000;
  await h.post(pv({ u: 'https://example.com/c' }));
  const v = visits(h);
  assert.is(v.length, 2);
  assert.equal([v[0].entry_page, v[0].exit_page, v[0].pageviews, v[0].bounce], ['/a', '/b', 2, 0]);
  assert.is((v[0].end_ts as number) - (v[0].start_ts as number), 29 * 60_000);
  assert.equal([v[1].entry_page, v[1].pageviews, v[1].bounce], ['/c', 1, 1]);
  const ev = events(h);
  assert.is(ev[0].visit_id, ev[1].visit_id);
  assert.is.not(ev[1].visit_id, ev[2].visit_id);
});

vis('different visitors (prefix or UA) are different visits', async () => {
  await h.post(pv(), { ip: '198.51.100.7' });
  await h.post(pv(), { ip: '198.51.100.200' }); // same /24: same visitor
  await h.post(pv(), { ip: '198.51.101.7' });
  await h.post(pv(), { ip: '198.51.100.7', ua: UA.iphone });
  assert.is(visits(h).length, 3);
});

vis('strict precision: addresses in one /16 are one visitor, and only the /16 reaches the hash', async () => {
  const strict = await setup({ HUSH_IP_PRECISION: 'strict' });
  try {
    await strict.post(pv(), { ip: '198.51.7.7' });
    await strict.post(pv(), { ip: '198.51.200.9' });
    await strict.post(pv(), { ip: '2001:db8:1:2::1' });
    await strict.post(pv(), { ip: '2001:db8:ffff:2::1' });
    assert.is(visits(strict).length, 2);
  } finally {
    await strict.close();
  }
  // default precision tells the same four addresses apart
  await h.post(pv(), { ip: '198.51.7.7' });
  await h.post(pv(), { ip: '198.51.200.9' });
  await h.post(pv(), { ip: '2001:db8:1:2::1' });
  await h.post(pv(), { ip: '2001:db8:ffff:2::1' });
  assert.is(visits(h).length, 4);
});

vis('a visit spanning UTC midnight stays one visit under one visitor id', async () => {
  h.clock.now = Date.UTC(2026, 5, 15, 23, 50);
  await h.post(pv({ u: 'https://example.com/late' }));
  h.clock.now = Date.UTC(2026, 5, 16, 0, 10);
  await h.post(pv({ u: 'https://example.com/after-midnight' }));
  const v = visits(h);
  assert.is(v.length, 1);
  assert.equal([v[0].pageviews, v[0].exit_page], [2, '/after-midnight']);
  const ev = events(h);
  assert.is(ev[0].visitor_id, ev[1].visitor_id);
  // A visitor first seen after midnight gets today's id: a new visit from a new IP prefix
  h.clock.now = Date.UTC(2026, 5, 16, 0, 50);
  await h.post(pv(), { ip: '203.0.113.9' });
  assert.is(visits(h).length, 2);
});

vis('after midnight plus 30 minutes, yesterday\'s id is no longer computed: a new visit', async () => {
  h.clock.now = Date.UTC(2026, 5, 15, 23, 59);
  await h.post(pv());
  h.clock.now = Date.UTC(2026, 5, 16, 0, 31);
  await h.post(pv());
  assert.is(visits(h).length, 2);
});

vis('interactive custom events end a bounce; non-interactive ones do not', async () => {
  await h.post(pv());
  await h.post({ n: 'Video Play', u: 'https://example.com/', d: 'example.com', i: false });
  assert.is(visits(h)[0].bounce, 1);
  await h.post({ n: 'Signup', u: 'https://example.com/', d: 'example.com' });
  const [v] = visits(h);
  assert.equal([v.bounce, v.events, v.pageviews], [0, 2, 1]);
});

vis('a long read reported by engagement does not split the visit', async () => {
  await h.post(pv());
  h.clock.now += 45 * 60_000;
  await h.post({ n: 'engagement', u: 'https://example.com/', d: 'example.com', e: 45 * 60_000 });
  h.clock.now += 60_000;
  await h.post(pv({ u: 'https://example.com/next' }));
  const v = visits(h);
  assert.is(v.length, 1);
  assert.equal([v[0].pageviews, v[0].engagement_ms], [2, 45 * 60_000]);
});

vis('a beacon custom event named "request" is an ordinary event, not a log request', async () => {
  const r = await h.post({ n: 'request', u: 'https://example.com/', d: 'example.com' });
  assert.is(r.status, 202);
  const [v] = visits(h);
  assert.ok(v, 'it opens a visit like any custom event');
  assert.is(v.events, 1);
});

vis('later events carry the visit\'s acquisition, not the internal referrer', async () => {
  await h.post(pv({ r: 'https://www.google.com/' }));
  await h.post(pv({ u: 'https://example.com/2', r: 'https://example.com/' }));
  assert.equal(events(h).map((e) => e.channel), ['search', 'search']);
});

vis('open visits survive a restart', async () => {
  await h.post(pv());
  await h.reopen();
  h.clock.now += 60_000;
  await h.post(pv({ u: 'https://example.com/again' }));
  const v = visits(h);
  assert.is(v.length, 1);
  assert.equal([v[0].pageviews, v[0].exit_page, v[0].bounce], [2, '/again', 0]);
});

vis.run();

