// GET /metrics on a real server: off (404) without HUSH_METRICS_TOKEN, 401 without the token or
// with a wrong one, and with it a scrape that parses as the Prometheus text format and counts
// what was sent: hits accepted and refused by reason, batch commits, a report query, the
// database size and the daily key's age. No site appears in it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { startServerProcess, killChildren } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';
import { tempDir, UA } from './helpers/harness.ts';
import { parsePrometheus, sampleValue, type Family } from './helpers/prom-text.ts';

const TOKEN = 'metrics-test-token-0123456789abcdef';
const mt = suite('metrics');
let cleanup = () => {};
mt.after.each(async () => {
  await killChildren();
  cleanup();
});

const post = (url: string, body: string, ua = UA.firefox) => fetch(`${url}/api/event`, { method: 'POST', body, headers: { 'Content-Type': 'text/plain', 'User-Agent': ua } })
  .then(async (r) => (await r.arrayBuffer(), r));
const pv = (p: string, d = 'example.com') => JSON.stringify({ n: 'pageview', u: `https://${d}${p}`, d });

function checkHistogram(f: Family | undefined, labels: Record<string, string> = {}): number {
  assert.ok(f, 'histogram present');
  assert.is(f!.type, 'histogram');
  const match = (s: { labels: Record<string, string> }) => Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  const buckets = f!.samples.filter((s) => s.name === `${f!.name}_bucket` && match(s));
  assert.ok(buckets.length > 3);
  for (let i = 1; i < buckets.length; i++) {
    const le = (x: string) => (x === '+Inf' ? Infinity : Number(x));
    assert.ok(le(buckets[i].labels.le) > le(buckets[i - 1].labels.le), 'buckets in order');
    assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative counts');
  }
  const inf = buckets.find((b) => b.labels.le === '+Inf');
  const count = f!.samples.find((s) => s.name === `${f!.name}_count` && match(s))!.value;
  assert.is(inf?.value, count, '+Inf bucket equals _count');
  return count;
}

mt('off without HUSH_METRICS_TOKEN', async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const srv = await startServerProcess({ HUSH_DB: path.join(t.dir, 'hush.db') });
  const r = await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.is(r.status, 404);
  await srv.stop();
});

mt('a scrape with the token parses and counts what happened', async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const dbPath = path.join(t.dir, 'hush.db');
  // site and key by the CLI's code in this process (test/cli.test.ts runs it as a process)
  assert.is((await runCliInProcess(['site', 'add', 'example.com', '--min-visitors', '3'], { HUSH_DB: dbPath })).code, 0);
  const key = (await runCliInProcess(['key', 'add', '--site', 'example.com'], { HUSH_DB: dbPath })).stdout.trim().split('\n').pop()!;
  const srv = await startServerProcess({ HUSH_DB: dbPath, HUSH_METRICS_TOKEN: TOKEN });

  assert.is((await fetch(`${srv.url}/metrics`)).status, 401);
  const wrong = await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}x` } });
  assert.equal([wrong.status, wrong.headers.get('www-authenticate')], [401, 'Bearer']);
  assert.not.match(await wrong.text(), /hush_hits/);

  for (let i = 0; i < 5; i++) assert.is((await post(srv.url, pv(`/p${i}`))).status, 202);
  assert.is((await post(srv.url, pv('/'), UA.googlebot)).headers.get('x-hush-dropped'), 'bot');
  assert.is((await post(srv.url, pv('/', 'unknown.example'))).headers.get('x-hush-dropped'), 'unknown_site');
  assert.is((await post(srv.url, '{"n":')).status, 400);
  assert.is((await post(srv.url, 'x'.repeat(9000))).status, 413);
  const q = await fetch(`${srv.url}/api/v2/query`, {
    method: 'POST', headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify({ site_id: 'example.com', metrics: ['visitors', 'pageviews'], date_range: 'day' }),
  });
  assert.is(q.status, 200);

  const r = await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  const m = parsePrometheus(text);
  const v = (family: string, name = family, labels: Record<string, string> = {}) => sampleValue(m, family, name, labels);

  assert.is(m.get('hush_hits_accepted_total')?.type, 'counter');
  assert.is(v('hush_hits_accepted_total'), 5);
  for (const [reason, n] of [['bot', 1], ['unknown_site', 1], ['invalid', 1], ['too_large', 1], ['opt_out', 0], ['unavailable', 0]] as const) {
    assert.is(v('hush_hits_refused_total', 'hush_hits_refused_total', { reason }), n, reason);
  }
  assert.ok(checkHistogram(m.get('hush_batch_commit_seconds')) >= 1, 'commits observed');
  assert.is(v('hush_batch_hits', 'hush_batch_hits_sum'), 5);
  assert.is(checkHistogram(m.get('hush_report_query_seconds'), { kind: 'query' }), 1);
  assert.is(v('hush_writer_queue_depth'), 0);
  assert.is(v('hush_store_healthy'), 1);
  assert.is(v('hush_store_failed_commits_total'), 0);
  const dbBytes = v('hush_database_bytes', 'hush_database_bytes', { file: 'main' })!;
  assert.ok(dbBytes >= 4096, `database size ${dbBytes}`);
  const age = v('hush_daily_key_age_seconds', 'hush_daily_key_age_seconds', { key: 'newest' })!;
  assert.ok(age >= 0 && age < 120, `key age ${age}`);
  assert.ok(m.has('hush_process_cpu_user_seconds_total'), 'process metrics');
  // Instance-wide only: no metric names or labels a site.
  assert.not.ok(text.includes('example.com'), 'no site in the scrape');
  assert.not.ok([...m.values()].some((f) => f.samples.some((s) => 'site' in s.labels || 'domain' in s.labels)));
  await srv.stop();
});

mt.run();
