// Retention (DESIGN invariant 6): exactly the rows past each site's retention go, counted in
// whole local days of the site's time zone, across DST changes; dry runs only count; the CLI.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, type Harness } from './helpers/harness.ts';
import { retentionCutoff } from '../src/privacy/retention.ts';
import { runCli } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';
import { ROLLUP_DIMENSIONS } from '../src/reports/dimensions.ts';

let h: Harness;
const r = suite('retention');
r.before.each(async () => { h = await harness(); });
r.after.each(() => h.close());

let eventIds = 0;
function event(siteId: number, ts: number): void {
  h.core.store.sqlite.prepare(`INSERT INTO events (id, site_id, ts, visit_id, name_id, host_id, page_id)
    VALUES (?, ?, ?, 0, 1, 1, 1)`).run(++eventIds, siteId, ts);
}
function visit(siteId: number, start: number, end: number): void {
  h.core.store.sqlite.prepare(`INSERT INTO visits (site_id, visitor_id, start_ts, duration_ms, entry_page_id, exit_page_id, pageviews, bounce, platform_id, acquisition_id)
    VALUES (?, 1, ?, ?, 1, 1, 1, 1, 1, 1)`).run(siteId, start, end - start);
}
const left = (siteId: number, table = 'events', col = 'ts') => (h.core.store.sqlite.prepare(`SELECT ${col} AS t FROM ${table} WHERE site_id = ? ORDER BY ${col}`).all(siteId) as Array<{ t: number }>).map((x) => x.t);

r('cutoffs are local midnights, DST included', () => {
  // Helsinki leaves summer time on 2026-10-25: 30 days before 2026-11-20 is 2026-10-21, still UTC+3
  assert.is(new Date(retentionCutoff(Date.UTC(2026, 10, 20, 12), 30, 'Europe/Helsinki')).toISOString(), '2026-10-20T21:00:00.000Z');
  // New York springs forward on 2026-03-08 at 02:00: its midnight is still EST (UTC−5)
  assert.is(new Date(retentionCutoff(Date.UTC(2026, 2, 20, 12), 12, 'America/New_York')).toISOString(), '2026-03-08T05:00:00.000Z');
  assert.is(new Date(retentionCutoff(Date.UTC(2026, 2, 20, 12), 13, 'America/New_York')).toISOString(), '2026-03-07T05:00:00.000Z');
  assert.is(new Date(retentionCutoff(Date.UTC(2026, 10, 20, 0, 30), 1, 'UTC')).toISOString(), '2026-11-19T00:00:00.000Z');
});

r('deletes exactly what is past the limit, per site and time zone; visits only when wholly past', () => {
  const hel = h.core.sites.add({ domain: 'hel.fi', timezone: 'Europe/Helsinki', retentionDays: 30 });
  const utc = h.core.sites.add({ domain: 'utc.org', timezone: 'UTC', retentionDays: 1 });
  const now = Date.UTC(2026, 10, 20, 12);
  const helCut = Date.parse('2026-10-20T21:00:00Z'), utcCut = Date.parse('2026-11-19T00:00:00Z');
  for (const ts of [helCut - 86_400_000, helCut - 1, helCut, helCut + 1, now]) event(hel.id, ts);
  for (const ts of [utcCut - 1, utcCut, now]) event(utc.id, ts);
  visit(hel.id, helCut - 10_000, helCut - 5_000); // wholly past: deleted
  visit(hel.id, helCut - 10_000, helCut + 5_000); // spans the cutoff: kept
  const results = h.core.retention(now);
  assert.equal(results.map((x) => [x.domain, x.events, x.visits]), [['hel.fi', 2, 1], ['utc.org', 1, 0]]);
  assert.equal(left(hel.id), [helCut, helCut + 1, now]);
  assert.equal(left(utc.id), [utcCut, now]);
  assert.equal(left(hel.id, 'visits', 'end_ts'), [helCut + 5_000]);
  // running again deletes nothing more
  assert.equal(h.core.retention(now).map((x) => x.events + x.visits), [0, 0]);
});

r('rollups of local days before the cutoff go too; the kept days still report', () => {
  const hel = h.core.sites.add({ domain: 'hel.fi', timezone: 'Europe/Helsinki', retentionDays: 30 });
  const now = Date.UTC(2026, 10, 20, 12);
  const helCut = Date.parse('2026-10-20T21:00:00Z'); // local midnight, 2026-10-21 in Helsinki
  for (const ts of [helCut - 86_400_000, helCut - 1, helCut, helCut + 3_600_000, now]) event(hel.id, ts);
  h.core.store.sqlite.prepare('INSERT INTO rollup_dirty (site_id, hour, gen) SELECT DISTINCT site_id, ts / 3600000, 1 FROM events WHERE true ON CONFLICT DO NOTHING').run();
  h.core.refreshRollups(now);
  const days = () => (h.core.store.sqlite.prepare('SELECT DISTINCT day FROM daily_stats WHERE site_id = ? ORDER BY day').all(hel.id) as Array<{ day: number }>).map((x) => x.day);
  const cutDay = Math.floor(Date.UTC(2026, 9, 21) / 86_400_000);
  assert.equal(days(), [cutDay - 1, cutDay, cutDay + 30]);
  const dry = h.core.store.sqlite.prepare('SELECT count(*) AS n FROM hourly_stats WHERE site_id = ? AND hour < ?').get(hel.id, cutDay * 24) as { n: number };
  const [res] = h.core.retention(now);
  // The day past retention had one row per rolled-up dimension plus its total.
  assert.is(res.rollups, dry.n + ROLLUP_DIMENSIONS.length + 1);
  assert.equal(days(), [cutDay, cutDay + 30]);
  assert.is((h.core.store.sqlite.prepare('SELECT count(*) AS n FROM hourly_stats WHERE site_id = ? AND hour < ?').get(hel.id, cutDay * 24) as { n: number }).n, 0);
  assert.is((h.core.store.sqlite.prepare('SELECT min(day) AS d FROM rollup_days WHERE site_id = ?').get(hel.id) as { d: number }).d, cutDay);
});

r('values only the deleted rows used are deleted with them; values still in use stay', async () => {
  h.core.sites.add({ domain: 'gc.example', timezone: 'UTC', retentionDays: 1 });
  h.core.directory.refresh();
  const now = Date.UTC(2026, 10, 20, 12);
  const pv = (p: string) => ({ n: 'pageview', u: `https://gc.example${p}`, d: 'gc.example', r: 'https://old-referrer.example/x' });
  h.clock.now = now - 5 * 86_400_000;
  for (const p of ['/only-old', '/shared']) assert.is((await h.post(pv(p), { ip: '8.8.8.8' })).status, 202);
  h.clock.now = now;
  assert.is((await h.post({ n: 'pageview', u: 'https://gc.example/shared', d: 'gc.example' }, { ip: '9.9.9.9' })).status, 202);
  const values = () => (h.core.store.sqlite.prepare('SELECT value FROM strings ORDER BY value').pluck().all() as string[]);
  assert.ok(values().includes('/only-old') && values().includes('old-referrer.example/x'));
  const q = (sql: string) => h.core.store.sqlite.prepare(sql).pluck().get() as number;
  const acquisitionBefore = q("SELECT acquisition_id FROM visits WHERE referrer_id = (SELECT id FROM strings WHERE value = 'old-referrer.example/x')");
  const [res] = h.core.retention(now).filter((x) => x.domain === 'gc.example');
  assert.ok(res.events === 2 && res.strings >= 2, JSON.stringify(res));
  assert.equal([q('SELECT count(*) FROM acquisitions WHERE id NOT IN (SELECT acquisition_id FROM visits)'), q('SELECT count(*) FROM acquisitions')], [0, 1]);
  assert.not.ok(values().includes('/only-old'));
  assert.not.ok(values().includes('old-referrer.example/x'));
  assert.ok(values().includes('/shared') && values().includes('pageview'));
  // New hits after the deletion get fresh ids, not the deleted ones (a new visitor: a new visit with the old referrer).
  assert.is((await h.post(pv('/only-old'), { ip: '1.1.1.1' })).status, 202);
  const acquisitionAfter = q("SELECT acquisition_id FROM visits WHERE referrer_id = (SELECT id FROM strings WHERE value = 'old-referrer.example/x')");
  const dangling = h.core.store.sqlite.prepare('SELECT count(*) FROM events WHERE page_id NOT IN (SELECT id FROM strings)').pluck().get();
  assert.is(dangling, 0);
  // The old visit's acquisition row (its referrer's source) went with it, and its id was not handed out again.
  assert.ok(acquisitionAfter > acquisitionBefore, `${acquisitionAfter} > ${acquisitionBefore}`);
  assert.is(q(`SELECT count(*) FROM visits v WHERE NOT EXISTS (SELECT 1 FROM platforms p WHERE p.id = v.platform_id)
    OR NOT EXISTS (SELECT 1 FROM acquisitions a WHERE a.id = v.acquisition_id)`), 0);
});

r('large backlogs go in batches and all of it goes', () => {
  const s = h.core.sites.add({ domain: 'big.com', timezone: 'UTC', retentionDays: 1 });
  const now = Date.UTC(2026, 10, 20, 12);
  const insert = h.core.store.sqlite.transaction(() => { for (let i = 0; i < 12_345; i++) event(s.id, now - 10 * 86_400_000 + i); });
  insert();
  event(s.id, now);
  assert.equal(h.core.retention(now).map((x) => x.events), [12_345]);
  assert.equal(left(s.id), [now]);
});

r.run();

const cli = suite('retention: cli');
cli('hush retention --dry-run counts, hush retention deletes', async () => {
  const hh = await harness();
  const s = hh.core.sites.add({ domain: 'old.com', timezone: 'UTC', retentionDays: 1 });
  hh.core.store.sqlite.prepare(`INSERT INTO events (id, site_id, ts, visit_id, name_id, host_id, page_id)
    VALUES (1, ?, ?, 0, 1, 1, 1)`).run(s.id, Date.now() - 5 * 86_400_000);
  const env = { HUSH_DB: hh.dbPath };
  const dry = await runCli(['retention', '--dry-run'], env);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /old\.com: would delete 1 events, 0 visits, 0 rollup rows and 0 unused values/);
  // the rest in this process: the real process above is the command as run (runCliInProcess)
  const real = await runCliInProcess(['retention'], env);
  assert.match(real.stdout, /old\.com: deleted 1 events/);
  const again = await runCliInProcess(['retention'], env);
  assert.match(again.stdout, /old\.com: deleted 0 events/);
  const bad = await runCliInProcess(['site', 'add', 'x.com', '--retention-days', '0'], env);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--retention-days must be a whole number of days/);
  await hh.close();
});
cli.run();
