// Daily and hourly rollups: building them from raw events, and reading them back in the same
// row shape the raw path returns. The writer marks the UTC hours it wrote in `rollup_dirty`;
// `refresh` rebuilds every local day those hours touch (each day's rows replaced in one short
// transaction) and clears a mark only if no batch bumped it meanwhile, so nothing is missed.
// Reports then read a built day from `daily_stats` and an unbuilt one from raw events.
//
// Scroll depth (migration 0015): page rows (dim SCROLL_DIM = 1, event:page) also carry
// `scroll_sum` and `scroll_n`; every other row leaves them NULL. What any writer of page rows
// (rebuildDay here, and the live path of live-day.ts / live-rollups.ts) must store, per site,
// local day and page value — the same numbers raw-source.ts's SCROLL_PER_VISIT/SCROLL_SUMS give:
//   - for each visit_id with at least one engagement event (name "engagement") on that page that
//     day whose scroll_depth is not NULL — visit_id 0 (events outside any visit) counts as one
//     visit, and a visit whose visits row is gone counts too — take the maximum scroll_depth
//     over those engagement events of the visit on that page that day;
//   - scroll_sum = the sum of those maxima, scroll_n = how many visits had one (0 and 0 when
//     none: NULL means "not computed", and reports then read that day's scroll depth from events);
//   - only on rows that exist anyway (the page's non-engagement events that day > 0): a page seen
//     only through engagement reports that day has no row, and its scroll is not counted (as in SQL).
// A visit spanning local midnight counts once per day, with its maximum within each day.
import type Database from 'better-sqlite3';
import { ROLLUP_DIMENSIONS } from './dimensions.ts';
import { BASE, SCROLL_N, SCROLL_SUM } from './metrics.ts';
import { prepared, type SourceRow } from './raw-source.ts';
import { aggregate, fetchEventRows } from './aggregate.ts';
import { HOUR, dayStart, localDayNumber } from './time-zone.ts';
import { noteCleared, noteRebuilt } from './segment-cache.ts';
import type { LiveRollups, RoundPlan } from './live-rollups.ts';

const COLS = BASE.join(', ');
const PH = BASE.map(() => '?').join(', ');

/** The rollup code of the one dimension whose rows carry scroll depth's sums (event:page). */
export const SCROLL_DIM = 1;

export interface RefreshResult {
  days: number;
  ms: number;
}

interface SiteZone {
  id: number;
  timezone: string;
}

/** Marks every hour with events of a site for rebuilding (after a time-zone change, or a backfill). */
export function invalidateSite(sqlite: Database.Database, siteId: number): void {
  sqlite.transaction(() => {
    sqlite.prepare('DELETE FROM daily_stats WHERE site_id = ?').run(siteId);
    sqlite.prepare('DELETE FROM hourly_stats WHERE site_id = ?').run(siteId);
    sqlite.prepare('DELETE FROM rollup_days WHERE site_id = ?').run(siteId);
    sqlite.prepare(`INSERT INTO rollup_dirty (site_id, hour, gen) SELECT DISTINCT site_id, ts / ${HOUR}, 1 FROM events
      WHERE site_id = ? ON CONFLICT DO UPDATE SET gen = gen + 1`).run(siteId);
  })();
}

/** The rollup rows of one local day of a site, computed from a full read of its events. */
export function dayRows(sqlite: Database.Database, site: SiteZone, day: number): { daily: Array<[number, string | null, number[]]>; hourly: Array<[number, number[]]> } {
  const start = dayStart(day, site.timezone);
  const end = dayStart(day + 1, site.timezone);
  // One read of the day, every rollup aggregated from it in JS (26 SQL scans took ~8× longer).
  const data = fetchEventRows(sqlite, { siteId: site.id, start, end, tz: site.timezone, dims: ROLLUP_DIMENSIONS, filter: null });
  const [total, hours, ...perDim] = aggregate(data, [
    { hourly: false, cols: [] }, { hourly: true, cols: [] },
    ...ROLLUP_DIMENSIONS.map((d) => ({ hourly: false, cols: [data.dimCol.get(d.name)!], scroll: d.code === SCROLL_DIM })),
  ]);
  return {
    daily: [
      ...total.map((r): [number, string | null, number[]] => [0, null, r.base]),
      ...ROLLUP_DIMENSIONS.flatMap((d, i) => perDim[i].map((r): [number, string | null, number[]] => [d.code!, r.keys[0], r.base])),
    ],
    hourly: hours.map((r) => [r.hour!, r.base]),
  };
}

/** Rebuilds one local day of one site: every rolled-up dimension, the day total and its hours. */
export function rebuildDay(sqlite: Database.Database, site: SiteZone, day: number, now: number): void {
  const rows = dayRows(sqlite, site, day);
  const insDaily = sqlite.prepare(`INSERT INTO daily_stats (site_id, day, dim, value, ${COLS}, scroll_sum, scroll_n) VALUES (?, ?, ?, ?, ${PH}, ?, ?)`);
  const insHour = sqlite.prepare(`INSERT INTO hourly_stats (site_id, hour, ${COLS}) VALUES (?, ?, ${PH})`);
  sqlite.transaction(() => {
    sqlite.prepare('DELETE FROM daily_stats WHERE site_id = ? AND day = ?').run(site.id, day);
    sqlite.prepare('DELETE FROM hourly_stats WHERE site_id = ? AND hour >= ? AND hour < ?').run(site.id, day * 24, day * 24 + 24);
    // Page rows carry the two scroll sums after the base sums (0 when none); other rows NULL.
    for (const [code, value, base] of rows.daily) insDaily.run(site.id, day, code, value, ...base.slice(0, BASE.length), base[SCROLL_SUM] ?? null, base[SCROLL_N] ?? null);
    for (const [hour, base] of rows.hourly) insHour.run(site.id, hour, ...base);
    sqlite.prepare('INSERT INTO rollup_days (site_id, day, built_at) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET built_at = excluded.built_at')
      .run(site.id, day, now);
  })();
  noteRebuilt(site.id, day);
}

/**
 * Rebuilds the days behind every dirty hour (of `onlySite`, when given). `sites` gives each
 * site's zone; hours of sites not listed (removed) are cleared. With `live` (the reports thread),
 * the days hits still arrive for are maintained incrementally (live-rollups.ts) and only the
 * other marked days are rebuilt whole. Returns how many days were rebuilt or updated.
 */
export function refreshRollups(sqlite: Database.Database, sites: SiteZone[], now = Date.now(), onlySite?: number, live?: LiveRollups,
  plan?: RoundPlan): RefreshResult {
  const t0 = performance.now();
  const zones = new Map(sites.map((s) => [s.id, s]));
  let n = 0;
  const clear = sqlite.prepare('DELETE FROM rollup_dirty WHERE site_id = ? AND hour = ? AND gen = ?');
  const done = (marks: number[][]) => {
    sqlite.transaction(() => { for (const [siteId, hour, gen] of marks) clear.run(siteId, hour, gen); })();
    // Segments whose visits reach into these hours are read again (segment-cache.ts).
    for (const [siteId, hour] of marks) noteCleared(siteId, [hour]);
  };
  if (live) {
    const marked = (onlySite === undefined
      ? sqlite.prepare('SELECT DISTINCT site_id FROM rollup_dirty').pluck().all()
      : sqlite.prepare('SELECT DISTINCT site_id FROM rollup_dirty WHERE site_id = ?').pluck().all(onlySite)) as number[];
    for (const siteId of marked) {
      const site = zones.get(siteId);
      if (!site) {
        done(sqlite.prepare('SELECT site_id, hour, gen FROM rollup_dirty WHERE site_id = ?').raw(true).all(siteId) as number[][]);
        continue;
      }
      const round = live.refreshSite(sqlite, site, now, plan);
      for (const day of round.rebuild) rebuildDay(sqlite, site, day, now);
      n += round.rebuild.length + (round.events > 0 ? 1 : 0);
      done(round.marks);
    }
    return { days: n, ms: performance.now() - t0 };
  }
  const dirty = (onlySite === undefined
    ? sqlite.prepare('SELECT site_id, hour, gen FROM rollup_dirty ORDER BY site_id, hour').raw(true).all()
    : sqlite.prepare('SELECT site_id, hour, gen FROM rollup_dirty WHERE site_id = ? ORDER BY hour').raw(true).all(onlySite)) as number[][];
  const days = new Map<number, Set<number>>();
  for (const [siteId, hour] of dirty) {
    const site = zones.get(siteId);
    if (!site) continue;
    let set = days.get(siteId);
    if (!set) days.set(siteId, (set = new Set()));
    // An hour belongs to one local day, or two in zones offset by a half hour.
    set.add(localDayNumber(hour * HOUR, site.timezone));
    set.add(localDayNumber(hour * HOUR + HOUR - 1, site.timezone));
  }
  for (const [siteId, set] of days) {
    for (const day of [...set].sort((a, b) => a - b)) {
      rebuildDay(sqlite, zones.get(siteId)!, day, now);
      n++;
    }
  }
  done(dirty);
  return { days: n, ms: performance.now() - t0 };
}

/**
 * Local days within [fromDay, toDay] with events not yet rolled up. A day neither built nor
 * dirty has no events at all (the writer marks hours in the same transaction as the events).
 */
export function dirtyDays(sqlite: Database.Database, siteId: number, tz: string, fromDay: number, toDay: number): number[] {
  const lo = Math.floor(dayStart(fromDay, tz) / HOUR) - 1;
  const hi = Math.ceil(dayStart(toDay + 1, tz) / HOUR) + 1;
  const days = new Set<number>();
  for (const [hour] of prepared(sqlite, 'SELECT hour FROM rollup_dirty WHERE site_id = ? AND hour BETWEEN ? AND ?').all(siteId, lo, hi) as number[][]) {
    for (const d of [localDayNumber(hour * HOUR, tz), localDayNumber(hour * HOUR + HOUR - 1, tz)]) {
      if (d >= fromDay && d <= toDay) days.add(d);
    }
  }
  return [...days].sort((a, b) => a - b);
}

/** The built days of a site within [fromDay, toDay], ascending. */
export function builtDays(sqlite: Database.Database, siteId: number, fromDay: number, toDay: number): number[] {
  return (prepared(sqlite, 'SELECT day FROM rollup_days WHERE site_id = ? AND day BETWEEN ? AND ? ORDER BY day')
    .all(siteId, fromDay, toDay) as number[][]).map((r) => r[0]);
}

const toRows = (rows: unknown[][], nk: number): SourceRow[] => rows.map((r) => ({
  day: r[0] as number | null,
  hour: r[1] as number | null,
  keys: r.slice(2, 2 + nk) as Array<string | null>,
  base: r.slice(2 + nk) as number[],
}));

/**
 * Built days within [fromDay, toDay] whose page rows lack scroll depth's sums (NULL: written by a
 * writer that does not compute them). A query for scroll depth reads those days from events.
 */
export function daysWithoutScroll(sqlite: Database.Database, siteId: number, fromDay: number, toDay: number): number[] {
  return (prepared(sqlite, 'SELECT DISTINCT day FROM daily_stats WHERE site_id = ? AND dim = ? AND day BETWEEN ? AND ? AND scroll_n IS NULL ORDER BY day')
    .all(siteId, SCROLL_DIM, fromDay, toDay) as number[][]).map((r) => r[0]);
}

/**
 * Daily rollup rows of dimension `code` (0 = the whole site) for days [fromDay, toDay]. Only the
 * base sums in `cols` are read (the rest are 0): summing all twelve costs ~2.5× more on a month
 * of a 600-page site. `scroll` (page rows only, SCROLL_DIM) adds scroll depth's two sums.
 */
export function dailyRows(sqlite: Database.Database, siteId: number, code: number, fromDay: number, toDay: number, collapse: boolean,
  cols: number[] = BASE.map((_, i) => i), scroll = false): SourceRow[] {
  if (scroll && code !== SCROLL_DIM) throw new Error(`rollups of dimension ${code} carry no scroll depth`);
  const keys = code === 0 ? [] : ['value'];
  const sums = scroll ? [...BASE, 'scroll_sum', 'scroll_n'] : BASE;
  const pick = (agg: boolean) => sums.map((b, i) => (i >= BASE.length || cols.includes(i) ? (agg ? `sum(${b})` : b) : '0')).join(', ');
  const sql = collapse
    ? `SELECT NULL, NULL, ${[...keys, pick(true)].join(', ')} FROM daily_stats
       WHERE site_id = ? AND dim = ? AND day BETWEEN ? AND ? ${keys.length ? 'GROUP BY value' : ''}`
    : `SELECT day, NULL, ${[...keys, pick(false)].join(', ')} FROM daily_stats WHERE site_id = ? AND dim = ? AND day BETWEEN ? AND ?`;
  const rows = toRows(prepared(sqlite, sql).all(siteId, code, fromDay, toDay) as unknown[][], keys.length);
  return rows.filter((r) => r.base[0] !== null);
}

/** Hourly whole-site rollup rows for the local days [fromDay, toDay]. */
export function hourlyRows(sqlite: Database.Database, siteId: number, fromDay: number, toDay: number): SourceRow[] {
  const sql = `SELECT hour / 24, hour, ${COLS} FROM hourly_stats WHERE site_id = ? AND hour >= ? AND hour < ?`;
  return toRows(prepared(sqlite, sql).all(siteId, fromDay * 24, toDay * 24 + 24) as unknown[][], 0);
}
