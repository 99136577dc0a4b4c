// Incremental rollups (src/reports/live-rollups.ts) against whole-day rebuilds: random traffic
// written by the real HitWriter to a real SQLite file in batches, with refresh rounds between
// them, must leave exactly the rows a full read of each day gives — across local midnight in a
// half-hour zone and on a DST day, with visits spanning midnight, engagement reports that reach
// visits long closed, requests outside any visit, and a second writer (like `hush import`)
// writing into the same days.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb, type OpenDb } from '../src/store/db.ts';
import { HitWriter } from '../src/store/hit-writer.ts';
import type { Hit } from '../src/collector/hit.ts';
import { LiveRollups } from '../src/reports/live-rollups.ts';
import { dayRows, refreshRollups } from '../src/reports/rollups.ts';
import { dayStart, localDayNumber } from '../src/reports/time-zone.ts';
import { mulberry32 } from '../src/demo/random.ts';
import { loadConfig } from '../src/config.ts';
import { createCore } from '../src/server/core.ts';
import { loadCountryTables } from '../src/pseudonymize/country-data.ts';

const test = suite('live rollups');
const dirs: string[] = [];
const HOUR = 3_600_000, MIN = 60_000;

function fresh(): OpenDb {
  const dir = mkdtempSync(path.join(tmpdir(), 'hush-live-'));
  dirs.push(dir);
  return openDb(path.join(dir, 'hush.db'), { synchronous: 'NORMAL' });
}

function addSite(db: OpenDb, domain: string, tz: string): { id: number; timezone: string } {
  const id = Number(db.sqlite.prepare('INSERT INTO sites (domain, timezone, created_at) VALUES (?, ?, 0)').run(domain, tz).lastInsertRowid);
  return { id, timezone: tz };
}

const PAGES = ['/', '/pricing', '/blog/a', '/blog/b', '/docs', '/about', '/signup', '/x'];
const COUNTRIES = ['DE', 'US', 'IN', null];
const SOURCES: Array<[string | null, string]> = [[null, 'Direct'], ['Google', 'Organic Search'], ['Twitter', 'Organic Social']];

function hitMaker(rand: () => number, siteId: number) {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  return (ts: number, visitor: number): Hit => {
    const r = rand();
    const log = r > 0.93;
    const name = log ? (rand() < 0.5 ? 'request' : 'pageview') : r < 0.6 ? 'pageview' : r < 0.8 ? 'engagement' : pick(['signup', 'download']);
    const [source, channel] = SOURCES[visitor % SOURCES.length];
    return {
      siteId, ts, visitorId: BigInt(visitor) * 1_000_003n * (visitor % 2 ? -1n : 1n), // signed 64-bit, as hmac64 gives
      prevVisitorId: null, name, hostname: rand() < 0.9 ? 'example.com' : 'blog.example.com',
      pathname: pick(PAGES), bytes: rand() < 0.7 ? Math.floor(rand() * 50_000) : null, status: log ? pick([200, 304, 404]) : null,
      loadMs: name === 'pageview' && rand() < 0.6 ? Math.floor(rand() * 3000) : null,
      // Now and then a long read: it may reach back into a visit closed hours ago.
      engagementMs: name === 'engagement' ? (rand() < 0.1 ? Math.floor(rand() * 3 * HOUR) : Math.floor(rand() * 120_000)) : null,
      // Scroll depth on most engagement reports, from the time (no draw: the sequence stays as it was).
      scrollDepth: name === 'engagement' && ts % 7 !== 0 ? ts % 101 : null,
      props: null, revenueAmount: null, revenueCurrency: null, interactive: rand() < 0.7, sourceType: log ? 'log' : 'script',
      referrerHost: source ? `${source.toLowerCase()}.com` : null, referrerPath: null, source, channel: channel as Hit['channel'],
      utmSource: visitor % 5 === 0 ? 'news' : null, utmMedium: null, utmCampaign: visitor % 7 === 0 ? 'spring' : null, utmContent: null, utmTerm: null,
      country: COUNTRIES[visitor % COUNTRIES.length], browser: visitor % 2 ? 'Firefox' : 'Chrome', browserVersion: String(100 + (visitor % 3)),
      os: 'Linux', osVersion: null, device: visitor % 3 ? 'desktop' : 'mobile', language: 'en', screen: null,
    } as Hit;
  };
}

type Snapshot = Map<number, string>;

/** The site's rows in the tables, per local day, as comparable text. */
function tableRows(db: OpenDb, siteId: number): Snapshot {
  const out = new Map<number, string[]>();
  const push = (day: number, line: string) => {
    let l = out.get(day);
    if (!l) out.set(day, (l = []));
    l.push(line);
  };
  // Page rows carry scroll depth's two sums after the twelve (NULL elsewhere, as dayRows leaves them out).
  for (const r of db.sqlite.prepare('SELECT day, dim, value, visitors, visits, pageviews, events, bounces, duration_ms, visit_pageviews, bytes, load_ms, load_n, engaged_ms, engaged_visits, scroll_sum, scroll_n FROM daily_stats WHERE site_id = ?').raw(true).all(siteId) as unknown[][]) {
    const scroll = r.slice(-2);
    push(r[0] as number, `d ${[...r.slice(1, -2), ...(scroll[0] === null ? [] : scroll)].join(' ')}`);
  }
  for (const r of db.sqlite.prepare('SELECT hour, visitors, visits, pageviews, events, bounces, duration_ms, visit_pageviews, bytes, load_ms, load_n, engaged_ms, engaged_visits FROM hourly_stats WHERE site_id = ?').raw(true).all(siteId) as unknown[][]) {
    push(Math.floor((r[0] as number) / 24), `h ${r.join(' ')}`);
  }
  return new Map([...out].map(([d, l]) => [d, l.sort().join('\n')]));
}

/** What a full read of each day gives, in the same form. */
function expectedRows(db: OpenDb, site: { id: number; timezone: string }, days: number[]): Snapshot {
  const out = new Map<number, string>();
  for (const day of days) {
    const { daily, hourly } = dayRows(db.sqlite, site, day);
    const lines = [
      ...daily.map(([code, value, base]) => `d ${[code, value ?? '', ...base].join(' ')}`),
      ...hourly.map(([hour, base]) => `h ${[hour, ...base].join(' ')}`),
    ];
    if (lines.length) out.set(day, lines.sort().join('\n'));
  }
  return out;
}

function daysWithEvents(db: OpenDb, site: { id: number; timezone: string }): number[] {
  const [lo, hi] = db.sqlite.prepare('SELECT min(ts), max(ts) FROM events WHERE site_id = ?').raw(true).get(site.id) as number[];
  if (lo === null) return [];
  const days: number[] = [];
  for (let d = localDayNumber(lo, site.timezone); d <= localDayNumber(hi, site.timezone); d++) days.push(d);
  return days;
}

function checkEqual(db: OpenDb, site: { id: number; timezone: string }, label: string): void {
  const days = daysWithEvents(db, site);
  const got = tableRows(db, site.id);
  const want = expectedRows(db, site, days);
  for (const day of days) {
    const g = got.get(day) ?? '', w = want.get(day) ?? '';
    if (g !== w) {
      const gl = new Set(g.split('\n')), wl = new Set(w.split('\n'));
      const missing = [...wl].filter((l) => !gl.has(l)).slice(0, 5), extra = [...gl].filter((l) => !wl.has(l)).slice(0, 5);
      assert.unreachable(`${label}: day ${day} differs\n  expected, missing: ${missing.join(' | ')}\n  in the table, not expected: ${extra.join(' | ')}`);
    }
  }
}

/**
 * Plays random traffic around a local midnight with refresh rounds between batches. With
 * `digests`, the writer's batches reach the rollups as the server's writer thread sends them
 * (some late, after a round or two), and only the second writer's events are read back.
 */
function play(seed: number, tz: string, midnightDay: number, opts: { foreign: boolean; digests?: boolean }): void {
  const rand = mulberry32(seed);
  const db = fresh();
  try {
    const site = addSite(db, `s${seed}.example`, tz);
    const live = new LiveRollups();
    const midnight = dayStart(midnightDay, tz);
    let now = midnight - 3 * HOUR;
    const inFlight: Float64Array[] = [];
    const writer = new HitWriter(db.sqlite, now, opts.digests ? (buf) => inFlight.push(buf) : undefined);
    const other = new HitWriter(db.sqlite, now);
    const make = hitMaker(rand, site.id);
    let rounds = 0, foreign = 0;
    const deliver = (all: boolean) => {
      while (inFlight.length && (all || rand() < 0.7)) live.receive(inFlight.shift()!);
    };
    const round = (at: number) => {
      if (!opts.digests) return void refreshRollups(db.sqlite, [site], at, undefined, live);
      const plan = live.plan(db.sqlite);
      refreshRollups(db.sqlite, [site], at, undefined, live, plan);
      live.finish(plan);
    };
    // With digests, what was read lags a round (a digest may be on its way): settle, then compare.
    const settle = (at: number) => {
      if (!opts.digests) return;
      deliver(true);
      round(at);
      round(at);
    };
    for (let step = 0; step < 70; step++) {
      now += Math.floor(rand() * 12 * MIN);
      const batch: Hit[] = [];
      const n = 1 + Math.floor(rand() * 15);
      for (let i = 0; i < n; i++) batch.push(make(now + i * 1000, Math.floor(rand() * 25)));
      writer.write(batch);
      if (opts.foreign && rand() < 0.2) {
        // Another process writes hits of the last few hours (an access-log import).
        const back = now - Math.floor(rand() * 5 * HOUR);
        other.write(Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, i) => make(back + i * 5000, 100 + Math.floor(rand() * 10))));
        foreign++;
      }
      deliver(false);
      if (rand() < 0.35) {
        round(now);
        rounds++;
        if (!opts.digests || rand() < 0.3) {
          settle(now);
          checkEqual(db, site, `seed ${seed} ${tz} step ${step}`);
        }
      }
    }
    deliver(true);
    round(now + 3 * HOUR);
    settle(now + 3 * HOUR);
    checkEqual(db, site, `seed ${seed} ${tz} after the last round`);
    // The comparison covered scroll depth's sums too: some page rows hold visits with one.
    const scrolled = db.sqlite.prepare('SELECT max(scroll_n) FROM daily_stats WHERE site_id = ?').raw(true).get(site.id) as number[];
    assert.ok(scrolled[0] > 0, 'no scroll depth in the rollups');
    assert.ok(rounds > 10, `${rounds} refresh rounds`);
    if (opts.foreign) assert.ok(foreign > 3, `${foreign} foreign batches`);
  } finally {
    db.close();
  }
}

// 2026-03-08 is the US DST day (23 hours in New York); Kolkata is UTC+05:30.
const DST_DAY = Math.floor(Date.UTC(2026, 2, 8) / 86_400_000);
const PLAIN_DAY = Math.floor(Date.UTC(2026, 5, 10) / 86_400_000);

test('equal to whole-day rebuilds across midnight in a half-hour zone', () => {
  for (let seed = 1; seed <= 6; seed++) play(seed, 'Asia/Kolkata', PLAIN_DAY, { foreign: false });
});

test('equal across a DST change, with a second writer in the same days', () => {
  for (let seed = 11; seed <= 16; seed++) play(seed, 'America/New_York', DST_DAY + (seed % 2), { foreign: true });
});

test('from the writer\'s digests, some late, beside a second writer that sends none', () => {
  for (let seed = 21; seed <= 26; seed++) play(seed, seed % 2 ? 'Asia/Kolkata' : 'America/New_York', seed % 2 ? PLAIN_DAY : DST_DAY, { foreign: true, digests: true });
});

test('a round reads only what is new: a busy day is not read again', () => {
  const db = fresh();
  try {
    const site = addSite(db, 'big.example', 'UTC');
    const live = new LiveRollups();
    const day = PLAIN_DAY;
    let now = dayStart(day, 'UTC') + 10 * HOUR;
    const writer = new HitWriter(db.sqlite, now);
    const make = hitMaker(mulberry32(7), site.id);
    for (let b = 0; b < 40; b++) writer.write(Array.from({ length: 500 }, (_, i) => make(now + b * 1000 + i, (b * 500 + i) % 3000)));
    const stored = db.sqlite.prepare('SELECT count(*) FROM events').pluck().get() as number;
    assert.ok(stored > 15_000, `${stored} events stored`);
    const first = live.refreshSite(db.sqlite, site, now + 60_000);
    assert.is(first.events, stored, 'the first round reads the day whole');
    refreshRollups(db.sqlite, [site], now + 60_000, undefined, live);
    now += 120_000;
    writer.write(Array.from({ length: 30 }, (_, i) => make(now + i, i)));
    const next = live.refreshSite(db.sqlite, site, now + 1000);
    assert.is(next.events, 30, 'the next round reads the 30 new events only');
    refreshRollups(db.sqlite, [site], now + 1000, undefined, live);
    checkEqual(db, site, 'big day');
  } finally {
    db.close();
  }
});

test('a time zone change starts the site over', () => {
  const db = fresh();
  try {
    const site = addSite(db, 'tz.example', 'UTC');
    const live = new LiveRollups();
    const now = dayStart(PLAIN_DAY, 'UTC') + 2 * HOUR;
    const writer = new HitWriter(db.sqlite, now);
    const make = hitMaker(mulberry32(3), site.id);
    writer.write(Array.from({ length: 200 }, (_, i) => make(now - 4 * HOUR + i * 60_000, i % 40)));
    refreshRollups(db.sqlite, [site], now + 3 * HOUR, undefined, live);
    checkEqual(db, site, 'UTC');
    db.sqlite.prepare("UPDATE sites SET timezone = 'Asia/Kolkata' WHERE id = ?").run(site.id);
    const moved = { id: site.id, timezone: 'Asia/Kolkata' };
    // What the server does on a time zone change (src/reports/rollups.ts invalidateSite).
    db.sqlite.prepare('DELETE FROM daily_stats WHERE site_id = ?').run(site.id);
    db.sqlite.prepare('DELETE FROM hourly_stats WHERE site_id = ?').run(site.id);
    db.sqlite.prepare('DELETE FROM rollup_days WHERE site_id = ?').run(site.id);
    db.sqlite.prepare('INSERT INTO rollup_dirty (site_id, hour, gen) SELECT DISTINCT site_id, ts / 3600000, 1 FROM events WHERE site_id = ? ON CONFLICT DO UPDATE SET gen = gen + 1').run(site.id);
    refreshRollups(db.sqlite, [moved], now + 3 * HOUR, undefined, live);
    checkEqual(db, moved, 'Kolkata');
  } finally {
    db.close();
  }
});

test('the server: the writer thread\'s batches reach the reports thread\'s rollups', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hush-live-'));
  dirs.push(dir);
  const clock = { now: Date.UTC(2026, 5, 15, 21, 20) }; // 23:20 in Berlin: the visits cross midnight
  const core = await createCore(loadConfig({ HUSH_DB: path.join(dir, 'hush.db'), HUSH_ROLLUP_MS: '3600000' }), {
    countries: await loadCountryTables(), clock: () => clock.now, writerThread: true, peer: (c) => (c.env as { peer: string }).peer,
  });
  try {
    const site = core.sites.add({ domain: 'example.com', timezone: 'Europe/Berlin' });
    core.directory.refresh();
    const rand = mulberry32(5);
    const agents = ['Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'];
    const post = (body: object, visitor: number) => core.app.fetch(new Request('http://hush.test/api/event', {
      method: 'POST', headers: { 'Content-Type': 'text/plain', 'User-Agent': agents[visitor % 2] }, body: JSON.stringify(body),
    }), { peer: `203.0.113.${visitor % 50}` });
    let sent = 0;
    for (let step = 0; step < 40; step++) {
      clock.now += Math.floor(rand() * 4 * MIN);
      await Promise.all(Array.from({ length: 8 }, async () => {
        const visitor = Math.floor(rand() * 30), page = PAGES[Math.floor(rand() * PAGES.length)];
        const r = rand();
        const body = r < 0.7 ? { n: 'pageview', u: `https://example.com${page}`, d: 'example.com' }
          : r < 0.85 ? { n: 'engagement', u: `https://example.com${page}`, d: 'example.com', e: Math.floor(rand() * 60_000) }
          : { n: 'Signup', u: `https://example.com${page}`, d: 'example.com' };
        const res = await post(body, visitor);
        if (res.status === 202) sent++;
      }));
      if (step % 7 === 6) await core.reports!.refresh(clock.now);
    }
    // A digest may arrive after the round that reads its snapshot: a second round settles it.
    await core.reports!.refresh(clock.now);
    await core.reports!.refresh(clock.now);
    assert.ok(sent > 200, `${sent} hits accepted`);
    checkEqual(core.store, { id: site.id, timezone: 'Europe/Berlin' }, 'writer thread');
    assert.ok(tableRows(core.store, site.id).size === 2, 'two local days rolled up');
  } finally {
    await core.close();
  }
});

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.run();
