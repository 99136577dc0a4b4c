// The same answers from Node and from the edge (issue 14): the same random hits are played into
// the Node server (in-process, its own clock) and, over HTTP, into the real workerd at the same
// made-up times (test/helpers/edge-clock-worker.ts: a test-only entry whose clock a request sets;
// the deployed entry has none), once into a site held by one object and once into a site split
// over 4 objects by visitor. Then random Stats API queries — metrics, dimensions, filters
// (matches included: decided in JS at the edge, by SQL functions on Node), comparisons, date
// ranges in the site's time zone — must get the same results and the same k-anonymity from all
// three. One workerd for the whole file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { harness, type Harness } from './helpers/harness.ts';
import { play, randomPlan, rng, type PlannedVisit } from './helpers/traffic.ts';
import { probeWorkerd, startEdgeDev, type EdgeDev } from './helpers/edge-dev.ts';
import { dayDate, localDayNumber } from '../src/reports/time-zone.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKEN = `t-${randomBytes(8).toString('hex')}`;
const TZ = 'America/New_York';
// A second site, in a zone whose days start at UTC 18:30 (4 shards at the edge).
const TZ2 = 'Asia/Kolkata';
// Five days over the end of summer time in New York (2026-11-01, a 25-hour day).
const FIRST = Date.UTC(2026, 9, 29);
const DAYS = 5;
const NOW = Date.UTC(2026, 10, 3, 15, 0);
const K = 3;

const workerd = probeWorkerd();
const t = suite('edge parity: Node, one object and 4 shards answer alike');
const test = workerd.ok ? t : (t.skip as typeof t);
if (!workerd.ok) console.log(`SKIPPED LOUDLY: the workerd binary cannot run on this machine (${workerd.why}); edge parity did not run`);

let edge: EdgeDev | null = null;
let h: Harness;
let nodeKey = '', nodeKey2 = '';
const edgeKeys: Record<string, string> = {};
const edgeIds: Record<string, number> = {};

/** The hits `play` would post, recorded instead (time, body, address, user-agent), in time order. */
async function recordHits(plan: PlannedVisit[]): Promise<Array<{ ts: number; body: Record<string, unknown>; ip: string; ua: string }>> {
  const out: Array<{ ts: number; body: Record<string, unknown>; ip: string; ua: string }> = [];
  const clock = { now: 0 };
  const fake = {
    clock,
    post: async (body: Record<string, unknown>, o: { ip: string; ua: string }) => {
      out.push({ ts: clock.now, body, ip: o.ip, ua: o.ua });
      return new Response(null, { status: 202 });
    },
  };
  await play(fake as unknown as Harness, 'SITE', TZ, plan);
  return out;
}

const admin = (p: string, body?: unknown) => fetch(`${edge!.base}/_hush/admin${p}`, {
  method: 'POST', body: body === undefined ? undefined : JSON.stringify(body), headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
});

t.before(async () => {
  if (!workerd.ok) return;
  const starting = startEdgeDev({ HUSH_ADMIN_TOKEN: TOKEN }, ['test/helpers/edge-clock-worker.ts']);
  h = await harness({ HUSH_BATCH_MS: '0' }, FIRST);
  const site = h.core.sites.add({ domain: 'parity.example', timezone: TZ, minVisitors: K });
  h.core.directory.refresh();
  nodeKey = h.core.apiKeys.create(site.id);
  nodeKey2 = h.core.apiKeys.create(h.core.sites.add({ domain: 'kolkata.example', timezone: TZ2, minVisitors: K }).id);
  h.core.directory.refresh();
  edge = await starting;
});
t.after(async () => {
  edge?.stop();
  await h?.close();
});

test('the same hits: Node, one object and 4 shards', async () => {
  const plan = randomPlan(31, 70, FIRST, DAYS);
  const hits = await recordHits(plan);
  for (const [domain, shards, timezone] of [['one.example', 1, TZ], ['four.example', 4, TZ], ['kolkata4.example', 4, TZ2]] as const) {
    const r = await admin('/sites', { domain, timezone, min_visitors: K, shards });
    assert.is(r.status, 201, await r.clone().text());
    edgeIds[domain] = (await r.json()).site.id;
    edgeKeys[domain] = (await (await admin(`/keys?site=${domain}`)).json()).key;
  }
  const sendEdge = async (domain: string) => {
    for (const hit of hits) {
      const r = await fetch(`${edge!.base}/api/event`, {
        method: 'POST', body: JSON.stringify({ ...hit.body, d: domain, u: String(hit.body.u).replace('//SITE', `//${domain}`) }),
        headers: { 'Content-Type': 'text/plain', 'CF-Connecting-IP': hit.ip, 'User-Agent': hit.ua, 'X-Hush-Test-Now': String(hit.ts) },
      });
      assert.is(r.status, 202);
      assert.is(r.headers.get('x-hush-dropped'), null, `stored at the edge: ${await r.text()}`);
    }
  };
  const started = Date.now();
  await Promise.all([sendEdge('one.example'), sendEdge('four.example'), sendEdge('kolkata4.example'),
    play(h, 'parity.example', TZ, plan).then(() => play(h, 'kolkata.example', TZ2, plan))]);
  console.log(`  ${hits.length} hits twice into Node and three times into workerd in ${Date.now() - started} ms`);
  h.clock.now = NOW;

  // The 4-shard site's visitors really are spread over several objects.
  const dir = path.join(edge!.stateDir, 'v3/do/hush-SiteStore');
  let holding = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.sqlite') && n !== 'metadata.sqlite')) {
    const db = new Database(path.join(dir, f), { readonly: true });
    try {
      if (db.prepare('SELECT 1 FROM events WHERE site_id = 2 LIMIT 1').get()) holding++;
    } finally {
      db.close();
    }
  }
  assert.is(holding, 4, 'the 4-shard site has events in 4 objects');
});

const METRICS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration', 'events', 'time_on_page', 'bytes', 'load_time'];
const DIMS: string[][] = [[], [], ['event:page'], ['visit:source'], ['visit:country'], ['visit:browser'], ['time:day'], ['time:hour'], ['time'],
  ['event:name', 'visit:device'], ['event:status'], ['event:props:plan'], ['visit:entry_page'], ['visit:channel', 'time:day']];
const FILTERS: unknown[][] = [[], [], [], [['is', 'event:page', ['/docs', '/pricing']]], [['contains', 'event:page', ['blog']]],
  [['matches', 'event:page', ['^/docs']]], [['matches_not', 'visit:source', ['oogle']]], [['is_not', 'visit:browser', ['Firefox']]],
  [['or', [['matches', 'visit:country', ['^[A-F]']], ['is', 'visit:device', ['Mobile']]]]], [['matches', 'event:status', ['^40']]],
  [['is', 'event:props:plan', ['pro']]], [['contains', 'visit:referrer', ['t.co'], { case_sensitive: false }]]];

test('random Stats API queries: the same results, k-anonymity and comparisons from all three', async () => {
  const r = rng(17);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const d0 = localDayNumber(FIRST, TZ);
  const ask = async (domain: string, body: Json): Promise<Json> => {
    const b = JSON.stringify({ ...body, site_id: domain });
    const res = domain === 'parity.example' || domain === 'kolkata.example'
      ? await h.core.app.request('/api/v2/query', { method: 'POST', body: b, headers: { Authorization: `Bearer ${domain === 'parity.example' ? nodeKey : nodeKey2}` } })
      : await fetch(`${edge!.base}/api/v2/query`, { method: 'POST', body: b, headers: { Authorization: `Bearer ${edgeKeys[domain]}`, 'X-Hush-Test-Now': String(NOW) } });
    const json = await res.json();
    if (json.meta?.source) (sources[domain] ??= []).push(json.meta.source);
    return { status: res.status, results: json.results, error: json.error, meta: json.meta && { ...json.meta, source: undefined } };
  };
  let answered = 0, folded = 0, suppressed = 0, compared = 0;
  const sources: Record<string, string[]> = {};
  for (let i = 0; i < 60; i++) {
    if (i === 30) {
      // Half the queries read raw events everywhere, half read rollups built by Node's rollup
      // builder and by each edge object's alarm work (every shard's, as if at NOW).
      h.core.refreshRollups(NOW);
      for (const domain of Object.keys(edgeIds)) {
        const r = await admin(`/housekeeping?site_id=${edgeIds[domain]}&now=${NOW}`);
        assert.is(r.status, 200);
        const { shards } = await r.json();
        assert.is(shards.length, domain === 'one.example' ? 1 : 4);
        assert.ok(shards.every((s: Json) => s.rollupDays > 0), `every shard of ${domain} built its days`);
      }
      for (const d of Object.keys(sources)) sources[d] = [];
    }
    const from = d0 - 1 + Math.floor(r() * (DAYS + 1));
    const metrics = METRICS.filter(() => r() < 0.35);
    const body: Json = {
      metrics: metrics.length ? metrics : ['visitors'],
      date_range: r() < 0.15 ? 'all' : r() < 0.1 ? '7d' : [dayDate(from), dayDate(Math.min(from + Math.floor(r() * 4), d0 + DAYS))],
      dimensions: pick(DIMS), filters: pick(FILTERS),
    };
    if (r() < 0.35) body.include = { comparison: 'previous_period' };
    const [node, one, four] = [await ask('parity.example', body), await ask('one.example', body), await ask('four.example', body)];
    const what = JSON.stringify(body);
    assert.is(node.status, 200, `${what}: ${node.error}`);
    assert.equal(one, node, `one object vs Node: ${what}`);
    assert.equal(four, node, `4 shards vs Node: ${what}`);
    const [node2, four2] = [await ask('kolkata.example', body), await ask('kolkata4.example', body)];
    assert.equal(four2, node2, `4 shards vs Node in ${TZ2}: ${what}`);
    if (node.results.some((x: Json) => (x.metrics[0] ?? 0) > 0)) answered++;
    if (node.meta.folded_rows > 0) folded++;
    if (node.meta.suppressed) suppressed++;
    if (body.include) compared++;
  }
  console.log(`  60 queries: ${answered} with visitors, ${folded} folding rows under k=${K}, ${suppressed} suppressed, ${compared} with a comparison`);
  // The second half's unfiltered whole-day queries were answered from rollups, on Node and at the edge alike.
  const fromRollups = (d: string) => sources[d].filter((x) => x.includes('rollups')).length;
  console.log(`  after the rollups were built: ${fromRollups('parity.example')} of 30 Node answers from rollups, ${fromRollups('one.example')} of one object's, ${fromRollups('four.example')} of 4 shards'`);
  assert.ok(fromRollups('one.example') >= 3 && fromRollups('four.example') >= 3, 'the edge read its rollups');
  assert.is(fromRollups('one.example'), fromRollups('parity.example'));
  assert.ok(answered > 30 && folded > 3 && compared > 10, 'the queries are not trivial');
  // A bad query is refused alike (400, the same message) — also when fanned out over shards.
  const bad = { metrics: ['visitors'], date_range: 'day', filters: [['matches', 'event:page', ['(']]] };
  const [bn, b4] = [await ask('parity.example', bad), await ask('four.example', bad)];
  assert.is(b4.status, 400);
  assert.is(b4.error, bn.error);
});

t.run();
