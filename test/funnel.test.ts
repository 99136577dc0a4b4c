// Funnels (issue 16): POST /api/v2/funnel against a model computed independently from the traffic
// sent (visits that reached each step in order, per local day; visitors as daily uniques), with
// filters, the per-day cache of rolled-up days, k-anonymity per step ("< k" and null + below_k),
// every bad request a 400 naming its field, the caps of the funnels table, `hush funnel`, the
// settings form and the dashboard's funnel panel, whose numbers are the API's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, UA, type Harness } from './helpers/harness.ts';
import { play, randomPlan, type Model, type ModelEvent } from './helpers/traffic.ts';
import { dayNumber } from '../src/reports/time-zone.ts';
import { clearFunnelCache, funnelFor, funnelSliced } from '../src/reports/funnel.ts';
import { funnelPanel, FUNNEL_WAIT_MS } from '../src/web/funnel-panel.ts';
import { parseState } from '../src/web/dashboard-state.ts';
import { FunnelError, MAX_FUNNELS } from '../src/store/funnels.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const TZ = 'Europe/Helsinki';
const FIRST = Date.UTC(2026, 2, 22);
// Nine days, across the start of summer time in Helsinki (2026-03-29, a 23-hour day).
const DAYS = 9;
const NOW = Date.UTC(2026, 3, 1, 9, 0);
const D0 = dayNumber(2026, 3, 22);
const RANGE = ['2026-03-22', '2026-03-30'];

let h: Harness;
let key: string;
let model: Model;

async function ask(body: Json, k = key): Promise<{ status: number; json: Json }> {
  const r = await h.core.app.request('/api/v2/funnel', {
    method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: k ? { Authorization: `Bearer ${k}` } : {},
  });
  return { status: r.status, json: await r.json() };
}

async function ok(body: Json): Promise<Json> {
  const r = await ask({ site_id: 'example.com', date_range: RANGE, ...body });
  assert.is(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

type Step = { page: string } | { event: string };

/** A glob as the test reads it: `**` any run, `*` a run without "/" (the patterns here are simple). */
const globRe = (p: string) => new RegExp(`^${p.split('**').map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')).join('.*')}$`);
const matches = (s: Step, e: ModelEvent) => ('event' in s ? e.name === s.event : e.name === 'pageview' && globRe(s.page).test(e.page));

/** The model's funnel: per local day and visit, steps matched greedily in time order. */
function expectFunnel(steps: Step[], keepVisit: (events: ModelEvent[]) => boolean = () => true): { visits: number[]; visitors: number[] } {
  const groups = new Map<string, ModelEvent[]>();
  for (const e of model.events) {
    if (e.day < D0 || e.day > D0 + DAYS - 1) continue;
    const g = `${e.day}|${e.visit}`;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(e);
  }
  const visits = steps.map(() => 0);
  const seen = steps.map(() => new Set<string>());
  for (const evs of groups.values()) {
    if (!keepVisit(evs)) continue;
    evs.sort((a, b) => a.ts - b.ts);
    let r = 0;
    for (const e of evs) if (r < steps.length && matches(steps[r], e)) r++;
    for (let i = 0; i < r; i++) {
      visits[i]++;
      seen[i].add(`${evs[0].day}|${evs[0].visitor}`);
    }
  }
  return { visits, visitors: seen.map((s) => s.size) };
}

const FUNNELS: Step[][] = [
  [{ page: '/' }, { page: '/pricing' }],
  [{ page: '/docs/**' }, { page: '/blog/*' }, { page: '/about' }],
  [{ event: 'Signup' }, { page: '/pricing' }],
  // One page view advances one step: three views of any top-level page.
  [{ page: '/*' }, { page: '/*' }, { page: '/*' }],
  [{ page: '/' }, { event: 'Download' }, { page: '/docs' }, { page: '/docs/api' }, { page: '/**' }, { page: '/**' }, { page: '/**' }, { page: '/**' }],
];

const setup = suite('funnel: setup');
setup('play five days of traffic and build rollups', async () => {
  h = await harness({ HUSH_BATCH_MS: '0' }, FIRST);
  const site = h.core.sites.add({ domain: 'example.com', timezone: TZ, minVisitors: 1 });
  h.core.sites.add({ domain: 'k.example', timezone: 'UTC', minVisitors: 3 });
  h.core.directory.refresh();
  key = h.core.apiKeys.create(site.id);
  model = await play(h, 'example.com', TZ, randomPlan(11, 160, FIRST, DAYS));
  h.clock.now = NOW;
  assert.ok(h.core.refreshRollups().days >= DAYS);
});
setup.run();

// ---------------------------------------------------------------------------------------------
const api = suite('funnel: the Stats API against the model');
api.before.each(() => clearFunnelCache());

api('each funnel: visits and visitors per step, conversion and drop-off, cold and from the day cache', async () => {
  for (const steps of FUNNELS) {
    const want = expectFunnel(steps);
    assert.ok(want.visits[0] > 0, `step 1 of ${JSON.stringify(steps)} is reached`);
    const cold = await ok({ steps });
    const warm = await ok({ steps });
    assert.equal(warm.results, cold.results, 'the cached days give the same answer');
    assert.equal(cold.results.map((r: Json) => r.visits), want.visits, JSON.stringify(steps));
    assert.equal(cold.results.map((r: Json) => r.visitors), want.visitors, JSON.stringify(steps));
    cold.results.forEach((r: Json, i: number) => {
      assert.is(r.step, i + 1);
      assert.is(r.below_k, false);
      const v = want.visits[i], first = want.visits[0], prev = want.visits[i - 1];
      assert.is(r.conversion_rate, i === 0 ? 100 : Math.round((v / first) * 1000) / 10);
      assert.is(r.dropoff, i === 0 ? null : prev - v);
      assert.is(r.step_conversion_rate, i === 0 ? null : prev ? Math.round((v / prev) * 1000) / 10 : 0);
    });
    for (let i = 1; i < steps.length; i++) assert.ok(want.visits[i] <= want.visits[i - 1]);
  }
  const deep = expectFunnel(FUNNELS[3]);
  assert.ok(deep.visits[2] > 0 && deep.visits[2] < deep.visits[0], 'the three-view funnel narrows');
});

api('a saved funnel by name; labels; the query echoed', async () => {
  const site = h.core.sites.byDomain('example.com')!;
  h.core.funnels.add(site.id, 'Docs to blog', [{ kind: 'page', value: '/docs/**' }, { kind: 'page', value: '/blog/*' }, { kind: 'page', value: '/about' }]);
  const byName = await ok({ funnel: 'Docs to blog' });
  const inline = await ok({ steps: FUNNELS[1] });
  assert.equal(byName.results, inline.results);
  assert.equal(byName.results.map((r: Json) => r.label), ['Visit /docs/**', 'Visit /blog/*', 'Visit /about']);
  assert.equal(byName.query.funnel, 'Docs to blog');
  assert.equal(byName.query.steps, FUNNELS[1]);
  const stats = await h.core.app.request('/api/v2/query', { method: 'POST', headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify({ site_id: 'example.com', metrics: ['visits'], date_range: RANGE }) });
  assert.equal(byName.query.date_range, (await stats.json()).query.date_range, 'the date range echoed as the Stats API does');
  assert.is(byName.meta.min_visitors, 1);
  assert.is(byName.meta.hidden_steps, 0);
  h.core.funnels.remove(site.id, 'Docs to blog');
});

api('filters: the visits with an event matching them (a visit attribute, a page); partial days read raw', async () => {
  const country = model.events.find((e) => e.attrs.country)!.attrs.country!;
  for (const steps of [FUNNELS[0], FUNNELS[2], FUNNELS[3]]) {
    const byCountry = await ok({ steps, filters: [['is', 'visit:country', [country]]] });
    assert.equal(byCountry.results.map((r: Json) => r.visits), expectFunnel(steps, (evs) => evs[0].attrs.country === country).visits);
    const byPage = await ok({ steps, filters: [['is', 'event:page', ['/pricing']]] });
    assert.equal(byPage.results.map((r: Json) => r.visits), expectFunnel(steps, (evs) => evs.some((e) => e.page === '/pricing')).visits);
    const noDocs = await ok({ steps, filters: [['contains_not', 'event:page', ['docs']]] });
    assert.equal(noDocs.results.map((r: Json) => r.visits), expectFunnel(steps, (evs) => evs.some((e) => !e.page.includes('docs'))).visits);
  }
  // A range of datetimes (not whole days) reads raw events and agrees with the model of its days.
  const partial = await ok({ steps: FUNNELS[0], date_range: ['2026-03-22T00:00:00+02:00', '2026-03-30T23:59:59+03:00'] });
  assert.equal(partial.results.map((r: Json) => r.visits), expectFunnel(FUNNELS[0]).visits);
});

api('on the reports thread, days read a slice at a time give the same answer; closing stops it', async () => {
  const ctx = { sqlite: h.core.store.sqlite, site: h.core.sites.byDomain('example.com')!, goals: [], now: NOW };
  const body = { site_id: 'example.com', steps: FUNNELS[4], date_range: RANGE, filters: [['is', 'visit:device', ['desktop']]] };
  const sliced = await funnelSliced(ctx, body, () => false);
  clearFunnelCache();
  assert.equal(funnelFor(ctx, body), sliced);
  clearFunnelCache();
  try {
    await funnelSliced(ctx, body, () => true);
    assert.unreachable('a closing thread stops reading');
  } catch (e) {
    assert.match((e as Error).message, /closing/);
  }
});

api('new events on a cached day are counted (the day is dirty until rolled up again)', async () => {
  const steps: Step[] = [{ page: '/' }, { page: '/pricing' }];
  const before = await ok({ steps });
  const when = Date.UTC(2026, 2, 24, 10, 0);
  h.clock.now = when;
  const ip = '203.0.113.9';
  assert.is((await h.post({ n: 'pageview', u: 'https://example.com/', d: 'example.com' }, { ip })).status, 202);
  h.clock.now = when + 60_000;
  assert.is((await h.post({ n: 'pageview', u: 'https://example.com/pricing', d: 'example.com' }, { ip })).status, 202);
  h.clock.now = NOW;
  const after = await ok({ steps });
  assert.equal(after.results.map((r: Json) => r.visits), before.results.map((r: Json) => r.visits + 1));
  h.core.refreshRollups();
  assert.equal((await ok({ steps })).results, after.results, 'and once rolled up again, from the cache');
  // The model learns the visit too, for the tests after this one.
  const base = { day: D0 + 2, visitor: 'extra', visit: -1, host: 'example.com', bytes: null, status: null, load: null, engaged: null, props: {}, attrs: {} };
  model.events.push({ ...base, ts: when, name: 'pageview', page: '/' }, { ...base, ts: when + 60_000, name: 'pageview', page: '/pricing' });
});
api.run();

// ---------------------------------------------------------------------------------------------
const kanon = suite('funnel: k-anonymity');
let kKey: string;

kanon.before(async () => {
  const site = h.core.sites.byDomain('k.example')!;
  kKey = h.core.apiKeys.create(site.id);
  // Seven visitors on /start (by network and browser), six of them then on /help, four on /cart,
  // one of those on to /paid: with k = 3, step 3 (1 visitor) is hidden, step 2 (4; 3 went no
  // further) is not.
  const t0 = Date.UTC(2026, 2, 25, 10, 0);
  const who = ['198.51.100.1', '203.0.113.1', '192.0.2.1'].flatMap((ip) => [UA.firefox, UA.iphone, UA.chromeMac].map((ua) => [ip, ua])).slice(0, 7);
  let t = t0;
  const hit = async (ip: string, ua: string, path: string) => {
    h.clock.now = (t += 10_000);
    const r = await h.post({ n: 'pageview', u: `https://k.example${path}`, d: 'k.example' }, { ip, ua });
    assert.is(r.status, 202);
    assert.is(r.headers.get('x-hush-dropped'), null);
  };
  for (const [i, [ip, ua]] of who.entries()) {
    await hit(ip, ua, '/start');
    if (i < 6) await hit(ip, ua, '/help');
    if (i < 4) await hit(ip, ua, '/cart');
    if (i < 1) await hit(ip, ua, '/paid');
  }
  h.clock.now = NOW;
  h.core.refreshRollups();
});

const kAsk = (body: Json) => ask({ site_id: 'k.example', date_range: ['2026-03-25', '2026-03-25'], steps: [{ page: '/start' }, { page: '/cart' }, { page: '/paid' }], ...body }, kKey);

kanon('a step reached by fewer than k visitors is null with below_k, and so is what would reveal it', async () => {
  const r = await kAsk({});
  assert.is(r.status, 200);
  assert.equal(r.json.results.map((x: Json) => x.visits), [7, 4, null]);
  assert.equal(r.json.results.map((x: Json) => x.below_k), [false, false, true]);
  const s3 = r.json.results[2];
  assert.equal([s3.visitors, s3.conversion_rate, s3.step_conversion_rate, s3.dropoff, s3.dropoff_rate], [null, null, null, null, null]);
  assert.is(r.json.results[1].dropoff, 3);
  assert.is(r.json.meta.hidden_steps, 1);
  assert.is(r.json.meta.min_visitors, 3);
});

kanon('a step that fewer than k of the last shown step\'s visitors failed to reach is hidden too', async () => {
  // 7 on /start, 6 of them on /help: the one who went no further would be read off 7 − 6.
  const r = await kAsk({ steps: [{ page: '/start' }, { page: '/help' }, { page: '/cart' }] });
  assert.equal(r.json.results.map((x: Json) => x.visits), [7, null, 4]);
  assert.equal(r.json.results[2].dropoff, null, 'no drop-off from a hidden step');
  assert.equal(r.json.results[2].conversion_rate, 57.1);
});

kanon('with filters, a step is hidden when fewer than k visitors are left out by them', async () => {
  // Firefox: 3 of step 1's 7 visitors (4 left out: shown), 2 at step 2 (below k), 1 at step 3.
  const ff = await kAsk({ filters: [['is', 'visit:browser', ['Firefox']]] });
  assert.equal(ff.json.results.map((x: Json) => x.visits), [3, null, null]);
  // Not Safari: 5 of 7 at step 1 (2 left out: hidden), 3 of 4 at step 2 (1 left out: hidden).
  const notSafari = await kAsk({ filters: [['is_not', 'visit:browser', ['Safari']]] });
  assert.equal(notSafari.json.results.map((x: Json) => x.below_k), [true, true, true]);
  // Nothing left out: the same as unfiltered.
  const all = await kAsk({ filters: [['contains', 'event:page', ['/']]] });
  assert.equal(all.json.results.map((x: Json) => x.visits), [7, 4, null]);
});
kanon.run();

// ---------------------------------------------------------------------------------------------
const bad = suite('funnel: bad requests are 400s that name the field');

bad('steps, funnel, fields, dates, filters, keys', async () => {
  const cases: Array<[Json, RegExp]> = [
    [{ steps: [{ page: '/' }] }, /"steps": a funnel has 2 to 8 steps, got 1/],
    [{ steps: Array.from({ length: 9 }, () => ({ page: '/' })) }, /"steps": a funnel has 2 to 8 steps, got 9/],
    [{ steps: [{ page: '/' }, { page: 'pricing' }] }, /"steps\[1\]\.page": a page step needs a path pattern starting with "\/"/],
    [{ steps: [{ page: '/' }, { page: `/${'a'.repeat(600)}` }] }, /"steps\[1\]\.page": a page pattern is at most 501 characters/],
    [{ steps: [{ page: '/' }, { event: '' }] }, /"steps\[1\]\.event": an event step needs an event name of 1 to 120/],
    [{ steps: [{ page: '/' }, { event: 'x'.repeat(121) }] }, /"steps\[1\]\.event"/],
    [{ steps: [{ page: '/' }, { page: '/a', event: 'b' }] }, /"steps\[1\]": a step has exactly one key/],
    [{ steps: [{ page: '/' }, { regex: '.*' }] }, /"steps\[1\]": a step has exactly one key, "page" or "event"/],
    [{ steps: [{ page: '/' }, 'Signup'] }, /"steps\[1\]": a step is/],
    [{ steps: [{ page: '/' }, { page: ['/'] }] }, /"steps\[1\]": a step is/],
    [{ steps: 'a,b' }, /"steps" must be a list/],
    [{ funnel: 'Nope' }, /"funnel": the site has no funnel named "Nope"/],
    [{ funnel: 'Any', steps: FUNNELS[0] }, /either "funnel"/],
    [{ date_range: RANGE }, /"funnel" .* or "steps" is required/],
    [{ steps: FUNNELS[0], date_range: 'fortnight' }, /date_range/],
    [{ steps: FUNNELS[0], date_range: undefined }, /"date_range" is required/],
    [{ steps: FUNNELS[0], filters: [['is', 'visit:nope', ['x']]] }, /filters\[0\]\[1\]/],
    [{ steps: FUNNELS[0], filters: [['matches', 'event:page', ['(a+)+(']]] }, /filters\[0\]\[2\]/],
    [{ steps: FUNNELS[0], metrics: ['visitors'] }, /unknown field "metrics"/],
  ];
  for (const [body, re] of cases) {
    const r = await ask({ site_id: 'example.com', date_range: RANGE, ...body });
    assert.is(r.status, 400, JSON.stringify(body).slice(0, 100));
    assert.match(r.json.error, re);
  }
  assert.is((await ask({ site_id: 'example.com', date_range: RANGE, steps: FUNNELS[0] }, '')).status, 401);
  assert.is((await ask({ site_id: 'k.example', date_range: RANGE, steps: FUNNELS[0] })).status, 403);
  assert.is((await ask('{')).status, 400);
});

bad('the funnels table: 2–8 steps, names, patterns, at most 20 per site, unique names', () => {
  const site = h.core.sites.byDomain('k.example')!;
  const f = h.core.funnels;
  const two = [{ kind: 'page' as const, value: '/a' }, { kind: 'event' as const, value: 'B' }];
  assert.throws(() => f.add(site.id, 'x', two.slice(0, 1)), (e: Error) => e instanceof FunnelError && /2 to 8 steps, got 1/.test(e.message));
  assert.throws(() => f.add(site.id, '', two), /name of 1 to 120/);
  assert.throws(() => f.add(site.id, 'y'.repeat(121), two), /name of 1 to 120/);
  assert.throws(() => f.add(site.id, 'x', [two[0], { kind: 'page', value: '/a b' }]), /step 2: a page step needs a path pattern/);
  for (let i = 0; i < MAX_FUNNELS; i++) f.add(site.id, `F${i}`, two);
  assert.throws(() => f.add(site.id, 'one more', two), /at most 20 funnels/);
  f.remove(site.id, 'F0');
  assert.throws(() => f.add(site.id, 'F1', two), /already has a funnel named "F1"/);
  for (let i = 1; i < MAX_FUNNELS; i++) assert.ok(f.remove(site.id, `F${i}`));
  assert.is(f.list(site.id).length, 0);
});
bad.run();

// ---------------------------------------------------------------------------------------------
const cli = suite('funnel: hush funnel add|list|remove');

/** `hush …args` in this process, on this file's database. */
const hush = (args: string[]) => runCliInProcess(args, { HUSH_DB: h.dbPath });

cli('add, list, remove; usage errors exit 2 naming the step, unknown ones exit 1', async () => {
  let r = await hush(['funnel', 'add', '--site', 'example.com', '--name', 'Buy', '--step', '/', '--step', '/pricing', '--step', 'Signup']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Added funnel "Buy" \(3 steps\) to example\.com/);
  r = await hush(['funnel', 'list', '--site', 'example.com']);
  assert.match(r.stdout, /Buy\tpage \/ → page \/pricing → event Signup/);
  r = await hush(['funnel', 'add', '--site', 'example.com', '--name', 'Bad', '--step', '/', '--step', '/a b']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /funnel add: --step 2: a page step needs a path pattern/);
  r = await hush(['funnel', 'add', '--site', 'example.com', '--name', 'One', '--step', '/']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /2 to 8 steps, got 1/);
  r = await hush(['funnel', 'remove', '--site', 'example.com', '--name', 'Nope']);
  assert.is(r.code, 1);
  r = await hush(['funnel', 'add', '--site', 'nowhere.example', '--name', 'X', '--step', '/', '--step', '/a']);
  assert.is(r.code, 1);
  r = await hush(['funnel', '--help']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /hush funnel add --site <domain> --name NAME --step STEP/);
  const api = await ok({ funnel: 'Buy' });
  assert.equal(api.results.map((x: Json) => x.visits), expectFunnel([{ page: '/' }, { page: '/pricing' }, { event: 'Signup' }]).visits);
  r = await hush(['funnel', 'remove', '--site', 'example.com', '--name', 'Buy']);
  assert.is(r.code, 0);
});
cli.run();

// ---------------------------------------------------------------------------------------------
const web = suite('funnel: settings and the dashboard panel');
let cookie: string, csrf: string;

web.before(async () => {
  const user = await h.core.users.create('owner@example.com', 'a long enough password', true);
  const s = h.core.sessions.create(user.id, h.clock.now);
  cookie = `hush_session=${s.token}`;
  csrf = s.csrf;
});

const post = (path: string, fields: Record<string, string>) => h.core.app.request(path, {
  method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost' },
  body: new URLSearchParams({ csrf, ...fields }).toString(),
});

/** The funnel panel's visits column as text, by step. */
const panelVisits = (page: string) => [...page.matchAll(/<td class="num" data-visits>([^<]*(?:<span[^>]*>[^<]*<\/span>)?)<\/td>/g)].map((m) => m[1].replace(/<[^>]+>/g, '').replace('&lt;', '<'));

web('the settings form adds a funnel (errors name the step) and removes it; the dashboard shows the API\'s numbers', async () => {
  let r = await post('/sites/example.com/funnels', { name: 'Pricing', steps: '/\n/pricing\n' });
  assert.is(r.status, 200);
  assert.match(await r.text(), /Added the funnel &quot;Pricing&quot;|Added the funnel "Pricing"/);
  r = await post('/sites/example.com/funnels', { name: 'Bad', steps: '/\nno slash is an event, fine\n/a b' });
  assert.is(r.status, 400);
  assert.match(await r.text(), /Not added: step 3: a page step needs a path pattern/);
  r = await post('/sites/example.com/funnels', { name: 'Short', steps: '/' });
  assert.is(r.status, 400);
  assert.match(await r.text(), /2 to 8 steps, got 1/);
  r = await post('/sites/example.com/funnels', { name: 'Docs', steps: '/docs/**\n/blog/*\n/about' });
  assert.is(r.status, 200);
  const settings = await (await h.core.app.request('/sites/example.com/settings', { headers: { Cookie: cookie } })).text();
  assert.match(settings, /Pricing <span class="muted">\/ → \/pricing<\/span>/);

  const dash = async (q: string) => {
    const res = await h.core.app.request(`/sites/example.com?from=${RANGE[0]}&to=${RANGE[1]}${q}`, { headers: { Cookie: cookie } });
    assert.is(res.status, 200);
    return res.text();
  };
  let page = await dash('');
  assert.match(page, /<h2>Funnel: Pricing<\/h2>/);
  const api1 = await ok({ funnel: 'Pricing' });
  assert.equal(panelVisits(page), api1.results.map((x: Json) => x.visits.toLocaleString('en-US')));
  page = await dash('&funnel=Docs');
  assert.match(page, /<h2>Funnel: Docs<\/h2>/);
  assert.equal(panelVisits(page), (await ok({ funnel: 'Docs' })).results.map((x: Json) => String(x.visits)));
  assert.match(page, /href="\/sites\/example\.com\?from=2026-03-22&amp;to=2026-03-30&amp;funnel=Pricing"/, 'a link to the other funnel keeps the period');
  assert.match(page, /name="funnel" value="Docs"/, 'the custom range form keeps the funnel');
  // With a filter, the panel follows it.
  page = await dash('&funnel=Docs&f=event:page:/pricing');
  assert.equal(panelVisits(page), (await ok({ funnel: 'Docs', filters: [['is', 'event:page', ['/pricing']]] })).results.map((x: Json) => String(x.visits)));

  r = await post('/sites/example.com/funnels/remove', { name: 'Pricing' });
  assert.is(r.status, 200);
  r = await post('/sites/example.com/funnels/remove', { name: 'Docs' });
  assert.is(r.status, 200);
  assert.not.match(await dash(''), /aria-label="Funnel"/, 'no funnel, no panel');
});

web('a step below k shows "< k" on the dashboard', async () => {
  const site = h.core.sites.byDomain('k.example')!;
  h.core.funnels.add(site.id, 'Checkout', [{ kind: 'page', value: '/start' }, { kind: 'page', value: '/cart' }, { kind: 'page', value: '/paid' }]);
  const res = await h.core.app.request('/sites/k.example?from=2026-03-25&to=2026-03-25', { headers: { Cookie: cookie } });
  const page = await res.text();
  assert.equal(panelVisits(page), ['7', '4', '< 3']);
  assert.match(page, /data-below-k/);
});

web('a funnel slower than the page waits for is said to be counted, and the page goes on', async () => {
  const site = h.core.sites.byDomain('example.com')!;
  const t = performance.now();
  const panel = String(await funnelPanel({
    funnel: () => new Promise(() => {}),
    funnels: { list: () => [{ name: 'Slow', steps: [{ kind: 'page', value: '/' }, { kind: 'page', value: '/pricing' }] }] },
  }, site, parseState(new URL('http://hush.test/sites/example.com')), '/sites/example.com'));
  assert.ok(performance.now() - t < FUNNEL_WAIT_MS + 200);
  assert.match(panel, /data-funnel-pending/);
  assert.match(panel, /<h2>Funnel: Slow<\/h2>/);
});

web.after(async () => {
  await h.close();
});
web.run();
