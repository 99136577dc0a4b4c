// Stats API bodies at and past every cap, over real HTTP into the real reports thread (issue 12,
// C): `filters` nested 50,000 deep used to fail the structured clone to the thread (500, and a
// pending entry left behind for good), an `or` of 1,500 children passed SQLite's expression depth
// limit (500). Each is a 400 naming the field now, the thread keeps answering, nothing is pending.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { loadConfig } from '../src/config.ts';
import { createCore, type Core } from '../src/server/core.ts';
import { loadCountryTables } from '../src/pseudonymize/country-data.ts';
import { ReportsThread } from '../src/reports/reports-thread.ts';
import { QueryError } from '../src/reports/query-error.ts';
import { MAX_CHILDREN, MAX_DEPTH, MAX_FILTERS, MAX_PATTERNS, MAX_TOTAL_CLAUSES } from '../src/reports/filters.ts';
import { tempDir } from './helpers/harness.ts';
import { METRICS } from '../src/reports/metrics.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const DOMAIN = 'limits.test';
let tmp: ReturnType<typeof tempDir>;
let dbPath: string;
let core: Core;
let server: http.Server;
let base: string;
let key: string;

async function ask(body: Json | string): Promise<{ status: number; json: Json }> {
  const text = typeof body === 'string' ? body : JSON.stringify({ site_id: DOMAIN, metrics: ['visitors'], date_range: 'day', ...body });
  const r = await fetch(`${base}/api/v2/query`, { method: 'POST', body: text, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' } });
  return { status: r.status, json: await r.json() };
}

async function bad(body: Json | string, field: RegExp): Promise<string> {
  const r = await ask(body);
  assert.is(r.status, 400, JSON.stringify(r.json).slice(0, 300));
  assert.match(r.json.error, field);
  return r.json.error;
}

const leaf = (i: number, clauses = 1) => ['is', 'event:page', Array.from({ length: clauses }, (_, j) => `/p${i}-${j}`)];

const http400 = suite('query limits: over HTTP into the reports thread');

http400.before(async () => {
  tmp = tempDir();
  dbPath = path.join(tmp.dir, 'hush.db');
  core = await createCore(loadConfig({ HUSH_DB: dbPath, HUSH_BATCH_MS: '0' }), {
    countries: await loadCountryTables(), writerThread: true, peer: (c) => getConnInfo(c).remote.address ?? '', logError: () => {},
  });
  const site = core.sites.add({ domain: DOMAIN, minVisitors: 1 });
  core.directory.refresh();
  key = core.apiKeys.create(site.id);
  server = http.createServer(getRequestListener(core.app.fetch));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const p of ['/', '/p1-0', '/docs/a']) {
    const r = await fetch(`${base}/api/event`, { method: 'POST', body: JSON.stringify({ n: 'pageview', u: `https://${DOMAIN}${p}`, d: DOMAIN }), headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' } });
    assert.is(r.status, 202);
  }
});

http400.after(async () => {
  await new Promise((r) => server.close(r));
  await core.close();
  tmp.cleanup();
});

/** A body as JSON text with `inner` (JSON text) as the value of `field`: JSON.stringify cannot nest 50,000 deep. */
const raw = (field: string, inner: string) => `{"site_id":"${DOMAIN}","metrics":["visitors"],"date_range":"day","${field}":${inner}}`;
const N = 50_000;
/** Where each level takes 7–10 characters, the most that fits the 256 KiB body limit (a structured clone fails from ~4,000). */
const N_FIT = 20_000;

http400('filters nested 50,000 deep: 400 naming "filters", whatever the shape', async () => {
  const leafText = JSON.stringify(leaf(0));
  await bad(raw('filters', `${'['.repeat(N)}${']'.repeat(N)}`), /^"filters": nested deeper than 24 levels/);
  await bad(raw('filters', `[${'["not",'.repeat(N_FIT)}${leafText}${']'.repeat(N_FIT)}]`), /^"filters\[0\](\[1\])+": filters nest deeper than 8 levels/);
  await bad(raw('filters', `[${'["and",['.repeat(N_FIT)}${leafText}${']]'.repeat(N_FIT)}]`), /^"filters\[0\]\[1\]\[0\].*": filters nest deeper than 8 levels/);
  await bad(raw('filters', `[["is","event:page",[${'['.repeat(N)}"x"${']'.repeat(N)}]]]`), /^"filters": nested deeper than 24 levels/);
  assert.is(core.reports!.pendingCount, 0);
});

http400('every other field nested 50,000 deep: 400 naming it', async () => {
  const deep = `${'['.repeat(N)}1${']'.repeat(N)}`;
  for (const field of ['metrics', 'date_range', 'dimensions', 'order_by', 'include', 'pagination', 'site_id']) {
    const value = field === 'include' || field === 'pagination' ? `{"limit":${deep}}` : `[${deep}]`;
    const text = field === 'site_id' ? `{"site_id":"${DOMAIN}","metrics":["visitors"],"date_range":"day","filters":[],"x":${deep}}` : raw(field, value);
    await bad(text, field === 'site_id' ? /^unknown field "x"/ : new RegExp(`^"${field}`));
  }
  assert.is(core.reports!.pendingCount, 0);
});

http400('an `or` of 1,500 children, and every other cap: 400 naming the field', async () => {
  await bad({ filters: [['or', Array.from({ length: 1500 }, (_, i) => leaf(i))]] }, /^"filters\[0\]\[1\]": "or" takes at most 50 filters, got 1500/);
  await bad({ filters: Array.from({ length: 1500 }, (_, i) => leaf(i)) }, /^"filters": at most 50 filters in a list/);
  const wide = (n: number) => ['and', Array.from({ length: n }, (_, i) => leaf(i))];
  await bad({ filters: [wide(MAX_CHILDREN), wide(MAX_CHILDREN)] }, /^"filters": at most 100 filters in all/);
  await bad({ filters: Array.from({ length: 11 }, (_, i) => leaf(i, 100)) }, /^"filters": at most 1000 clauses in all/);
  await bad({ filters: [['matches', 'event:page', Array.from({ length: 60 }, (_, i) => `^/${i}`)], ['matches', 'event:page', Array.from({ length: 41 }, (_, i) => `^/${i}x`)]] },
    /^"filters": at most 100 regular expressions in all/);
  await bad({ metrics: Array.from({ length: 5000 }, () => 'visitors') }, new RegExp(`^"metrics": at most ${METRICS.length} items`));
  await bad({ dimensions: Array.from({ length: 5 }, () => 'event:page') }, /^"dimensions"/);
  // As many as there are metrics and dimensions (4), plus one.
  await bad({ order_by: Array.from({ length: METRICS.length + 5 }, () => ['visitors', 'desc']) }, new RegExp(`^"order_by": at most ${METRICS.length + 4} items`));
  await bad({ date_range: ['2026-01-01', '2026-01-02', '2026-01-03'] }, /^"date_range"/);
  await bad({ pagination: { limit: 10, offset: 0, extra: 1 } }, /^"pagination": unknown option "extra"/);
  await bad({ include: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, true])) }, /^"include": unknown option/);
  await bad({ filters: [leaf(0)], pagination: { limit: Array.from({ length: 6000 }, () => 0) } }, /^"pagination": the request holds more than 5000 values/);
  assert.is(core.reports!.pendingCount, 0);
});

http400('a query at every cap is answered (no SQLite limit is reached), and so is a normal one', async () => {
  // filters[0]: an `or` of MAX_CHILDREN: a chain of `not` down to MAX_DEPTH with 100 clauses at
  // its end, MAX_PATTERNS patterns, and 48 leaves of 8 clauses; filters[1]: an `and` of the
  // filters left to reach MAX_FILTERS, 9 clauses each. 962 clauses in all.
  let chain: unknown = leaf(0, 100);
  for (let d = MAX_DEPTH; d > 2; d--) chain = ['not', chain];
  const children = [chain, ['matches', 'event:page', Array.from({ length: MAX_PATTERNS }, (_, i) => `^/p${i}-`)]];
  while (children.length < MAX_CHILDREN) children.push(leaf(children.length, 8));
  const used = 1 + (MAX_DEPTH - 1) + MAX_CHILDREN - 1;
  const rest = Array.from({ length: MAX_FILTERS - used - 1 }, (_, i) => ['is_not', 'event:name', Array.from({ length: 9 }, (_, j) => `e${i}-${j}`)]);
  const body = { filters: [['or', children], ['and', rest]], dimensions: ['event:page'] };
  const clauses = JSON.stringify(body).match(/"(\/p|\^\/p|e)\d/g)!.length;
  assert.ok(clauses <= MAX_TOTAL_CLAUSES && clauses > 900, `${clauses} clauses`);
  const r = await ask(body);
  assert.is(r.status, 200, JSON.stringify(r.json).slice(0, 300));
  assert.equal(r.json.results.map((x: Json) => x.dimensions[0]), ['/p1-0']);
  const normal = await ask({ dimensions: ['event:page'], filters: [['contains', 'event:page', ['p']]] });
  assert.is(normal.status, 200);
  assert.equal(normal.json.results.map((x: Json) => x.dimensions[0]), ['/p1-0']);
  assert.is(core.reports!.pendingCount, 0);
});

http400('postMessage throwing, a timeout and the thread exiting each remove the pending entry', async () => {
  const t = await ReportsThread.start({ dbPath, refreshMs: 3_600_000 });
  const worker = (t as unknown as { worker: { postMessage(m: unknown): void; terminate(): Promise<number> } }).worker;
  try {
    const site = core.sites.byDomain(DOMAIN)!;
    const ctx = { site, goals: [], now: Date.now() };
    const call = (t as unknown as { call(m: unknown, timed: boolean): Promise<unknown> }).call.bind(t);
    let deep: unknown = 1;
    for (let i = 0; i < N; i++) deep = [deep];
    // Past the main-thread check (called directly): the clone itself throws.
    const e1 = await call({ type: 'query', id: 1e9, site, goals: [], now: ctx.now, body: { filters: deep } }, true).catch((e) => e);
    assert.ok(e1 instanceof QueryError, String(e1));
    assert.is(t.pendingCount, 0);
    // The checked path refuses it before any postMessage.
    assert.ok((await t.query(ctx, { filters: deep }).catch((e) => e)) instanceof QueryError);
    assert.is(t.pendingCount, 0);
    // A normal query is answered within the timeout.
    assert.is((await t.query(ctx, { metrics: ['visitors'], date_range: 'day' }) as Json).results[0].metrics[0], 1);
    // A timeout: a query the thread never gets (its message dropped here) fails after 50 ms.
    (t as unknown as { timeoutMs: number }).timeoutMs = 50;
    const post = worker.postMessage;
    worker.postMessage = () => {};
    const lost = t.query(ctx, { metrics: ['visitors'], date_range: 'day' });
    worker.postMessage = post;
    assert.is(t.pendingCount, 1);
    assert.match(String(await lost.catch((e) => e)), /did not answer within 50 ms/);
    assert.is(t.pendingCount, 0);
    // The thread exiting: every waiting call fails at once. (Its message is dropped so the thread
    // cannot answer first: a round of live rollups can finish before terminate() lands.)
    worker.postMessage = () => {};
    const waiting = t.refresh(Date.now());
    worker.postMessage = post;
    await worker.terminate();
    assert.match(String(await waiting.catch((e) => e)), /exited/);
    assert.is(t.pendingCount, 0);
  } finally {
    await worker.terminate();
  }
});

http400('values that cannot become strings are quoted by their kind: 400, not 500 (found by npm run fuzz)', async () => {
  const odd = '{"toString":true}', bare = '{"__proto__":null,"a":1}';
  for (const inner of [`"metrics":[${odd}]`, `"metrics":[[false,${odd}]]`, `"metrics":["visitors"],"order_by":[[${odd},"desc"]]`, `"metrics":[${bare}]`]) {
    const r = await ask(`{"site_id":"${DOMAIN}","date_range":"day",${inner}}`);
    assert.is(r.status, 400, inner);
    assert.match(r.json.error, /^"(metrics|order_by\[0\])"/);
  }
});

http400.run();

const goalsCap = suite('query limits: goals per site');
goalsCap('a site has at most MAX_GOALS goals, with a clear error', async () => {
  const { GoalRepo, GoalError, MAX_GOALS } = await import('../src/store/goals.ts');
  const t = tempDir();
  const { openDb } = await import('../src/store/db.ts');
  const { SiteRepo } = await import('../src/store/sites.ts');
  const store = openDb(path.join(t.dir, 'g.db'));
  try {
    const site = new SiteRepo(store.db).add({ domain: 'goals.test' });
    const goals = new GoalRepo(store.db);
    for (let i = 0; i < MAX_GOALS; i++) goals.add(site.id, { page: `/p${i}/**` });
    assert.throws(() => goals.add(site.id, { event: 'One more' }), (e: unknown) => e instanceof GoalError && /at most 100 goals/.test((e as Error).message));
    assert.is(goals.list(site.id).length, MAX_GOALS);
  } finally {
    store.close();
    t.cleanup();
  }
});
goalsCap.run();
