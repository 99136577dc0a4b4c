// Day segments kept between queries, bounded by a memory budget (HUSH_REPORT_CACHE_MB, LRU over
// segments), and dropped as soon as the database says their day changed. A segment is valid
// while what the rollup builder keeps about its day(s) is unchanged:
//  - `rollup_days.built_at` of its local day, and an in-process count of its rebuilds (tests
//    refresh twice at the same clock time);
//  - no `rollup_dirty` hour over it, nor over the hours after it that its visits may reach (a
//    visit open at midnight can still be changed by a hit of the next day: bounce, duration,
//    exit page), whose clearing by this process's builder is counted too.
// A dirty day (today, on a live site) is volatile: its segment is reused while this connection
// saw no commit (data_version and total_changes), or for 2 s if only other connections wrote —
// a dashboard's eight queries come within a second, and the writer commits every few ms (the
// same share the old row cache gave).
// Everything is read inside one read transaction per day, so the token and the rows agree.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import { buildSegment, TooManyValues, type Segment } from './segments.ts';
import { prepared } from './raw-source.ts';
import { DAY, HOUR, dayStart, localDayNumber } from './time-zone.ts';

const SHARE_MS = 2_000;
// A visit continues with a hit up to 30 minutes after its last one (VISIT_KEEP_MS).
const KEEP_MS = 30 * 60_000;
/** Default budget: ~3.4 M events of segments (see the bench's MB per million events). */
export const DEFAULT_CACHE_MB = 256;

interface Entry {
  seg: Segment;
  token: string;
  /** data_version and total_changes when built (volatile segments only). */
  dataVersion: number;
  changes: number;
  at: number;
  volatile: boolean;
}

let budgetBytes = DEFAULT_CACHE_MB * 2 ** 20;
let usedBytes = 0;
/** Every connection's segments in one LRU (Map order = recency). */
const lru = new Map<string, Entry>();
const connIds = new WeakMap<SqlConnection, number>();
let nextConn = 1;
const rebuilds = new Map<string, number>();
const cleared = new Map<string, number>();
let clearGen = 0;
/** Days too wide for a segment (TooManyValues), with the token they had: not read again until it changes. */
const tooWide = new Map<string, string>();

/** Sets the memory budget (MB); 0 turns segments off (raw events are read from SQLite). */
export function setSegmentBudget(mb: number): void {
  budgetBytes = mb * 2 ** 20;
  evict();
}

export function segmentsEnabled(): boolean {
  return budgetBytes > 0;
}

/** What the cache holds; `matchBytes` of `bytes` are kept filter results. */
export function cacheStats(): { segments: number; events: number; bytes: number; matchBytes: number; budget: number } {
  let events = 0, matchBytes = 0;
  for (const e of lru.values()) {
    events += e.seg.n;
    for (const pos of e.seg.matches.values()) matchBytes += pos.byteLength;
  }
  return { segments: lru.size, events, bytes: usedBytes, matchBytes, budget: budgetBytes };
}

/** Drops every cached segment (tests, benches). */
export function clearSegments(): void {
  for (const e of lru.values()) cached.delete(e.seg);
  lru.clear();
  usedBytes = 0;
}

/** This process's rebuild counts of days [fromDay, toDay] of a site, as a token. */
export function rebuildsOf(siteId: number, fromDay: number, toDay: number): string {
  let t = '';
  for (let d = fromDay; d <= toDay; d++) t += `${rebuilds.get(`${siteId}|${d}`) ?? 0},`;
  return t;
}

/** The rollup builder cleared these dirty hours of a site (each gets a new, never repeated number). */
export function noteCleared(siteId: number, hours: number[]): void {
  if (cleared.size > 200_000) cleared.clear(); // tokens then differ: segments are read again, never kept stale
  for (const h of hours) cleared.set(`${siteId}|${h}`, ++clearGen);
}

/** Called by the rollup builder for each day it rebuilds: segments of that day are stale. */
export function noteRebuilt(siteId: number, day: number): void {
  const k = `${siteId}|${day}`;
  rebuilds.set(k, (rebuilds.get(k) ?? 0) + 1);
}

const cached = new WeakSet<Segment>();

/** A segment grew (a filter result was cached in it): count it if cached, evict if over budget. */
export function noteGrowth(seg: Segment, bytes: number): void {
  if (!cached.has(seg)) return;
  usedBytes += bytes;
  evict();
}

function evict(): void {
  for (const [k, e] of lru) {
    if (usedBytes <= budgetBytes) break;
    drop(k, e);
  }
}

function drop(k: string, e: Entry): void {
  lru.delete(k);
  cached.delete(e.seg);
  usedBytes -= e.seg.size;
}

interface DayState {
  built: Map<number, number>;
  /** Local days and UTC hours with rollup_dirty marks. */
  dirty: Set<number>;
  dirtyHours: Set<number>;
}

/** What the rollup tables say about local days [fromDay, toDay] of a site. */
function dayState(sqlite: SqlConnection, siteId: number, tz: string, fromDay: number, toDay: number): DayState {
  const built = new Map<number, number>();
  for (const [d, at] of prepared(sqlite, 'SELECT day, built_at FROM rollup_days WHERE site_id = ? AND day BETWEEN ? AND ?').all(siteId, fromDay, toDay) as number[][]) built.set(d, at);
  const dirty = new Set<number>(), dirtyHours = new Set<number>();
  const lo = Math.floor(dayStart(fromDay, tz) / HOUR) - 1, hi = Math.ceil(dayStart(toDay + 1, tz) / HOUR) + 1;
  for (const [h] of prepared(sqlite, 'SELECT hour FROM rollup_dirty WHERE site_id = ? AND hour BETWEEN ? AND ?').all(siteId, lo, hi) as number[][]) {
    dirtyHours.add(h);
    dirty.add(localDayNumber(h * HOUR, tz));
    dirty.add(localDayNumber(h * HOUR + HOUR - 1, tz));
  }
  return { built, dirty, dirtyHours };
}

/**
 * The token of what a segment depends on, and whether any of it is dirty: its day, and the UTC
 * hours after it that its visits may reach (a hit in them extends a visit of the day). Those
 * hours count by their marks and by how often this process's rollup builder cleared them, not
 * by the next day's rebuilds: yesterday stays valid while today is written to.
 */
function tokenOf(siteId: number, seg: { day: number; reach: number; end: number }, st: DayState): { token: string; volatile: boolean } {
  let volatile = st.dirty.has(seg.day);
  let token = `${st.built.get(seg.day) ?? '-'}:${rebuilds.get(`${siteId}|${seg.day}`) ?? 0}:${volatile ? 'd' : ''}`;
  const tail = seg.reach + KEEP_MS;
  for (let h = Math.floor(seg.end / HOUR); h * HOUR < tail; h++) {
    const dirty = st.dirtyHours.has(h);
    volatile ||= dirty;
    token += `|${h}:${cleared.get(`${siteId}|${h}`) ?? '-'}:${dirty ? 'd' : ''}`;
  }
  return { token, volatile };
}

const versionOf = (sqlite: SqlConnection) => ({
  dataVersion: sqlite.pragma('data_version', { simple: true }) as number,
  changes: prepared(sqlite, 'SELECT total_changes()').get()![0 as never] as number,
});

/**
 * The segments of local days [fromDay, toDay] of a site, from the cache where still valid.
 * Throws TooManyValues for a day too wide to hold (the caller reads raw events).
 * `now` is performance.now() (the share window of volatile days). With `until` (a
 * performance.now() deadline), null once a day would be read past it (at least one is read):
 * the caller yields and asks again.
 */
export function segmentsFor(sqlite: SqlConnection, siteId: number, tz: string, fromDay: number, toDay: number, now = performance.now(),
  until = Infinity): Segment[] | null {
  let conn = connIds.get(sqlite);
  if (conn === undefined) connIds.set(sqlite, (conn = nextConn++));
  // Days a segment's visits may reach: at most a couple past the range.
  const st = dayState(sqlite, siteId, tz, fromDay, toDay + 2);
  const ver = versionOf(sqlite);
  const out: Segment[] = [];
  let built = false;
  for (let day = fromDay; day <= toDay; day++) {
    const key = `${conn}|${siteId}|${tz}|${day}`;
    const hit = lru.get(key);
    if (hit) {
      const { token } = tokenOf(siteId, hit.seg, st);
      const fresh = token === hit.token && (!hit.volatile
        || (hit.dataVersion === ver.dataVersion && hit.changes === ver.changes)
        || (hit.changes === ver.changes && now - hit.at < SHARE_MS));
      if (fresh) {
        lru.delete(key);
        lru.set(key, hit);
        out.push(hit.seg);
        continue;
      }
      drop(key, hit);
    }
    const wide = tooWide.get(key);
    if (wide !== undefined) {
      if (wide === tokenOf(siteId, { day, reach: 0, end: 0 }, st).token) throw new TooManyValues();
      tooWide.delete(key);
    }
    if (built && performance.now() > until) return null;
    built = true;
    try {
      out.push(load(sqlite, key, siteId, tz, day, now));
    } catch (e) {
      if (e instanceof TooManyValues) {
        if (tooWide.size > 10_000) tooWide.clear();
        tooWide.set(key, tokenOf(siteId, { day, reach: 0, end: 0 }, st).token);
      }
      throw e;
    }
  }
  return out;
}

function load(sqlite: SqlConnection, key: string, siteId: number, tz: string, day: number, now: number): Segment {
  let entry!: Entry;
  // One read transaction: the day's rows and the marks that tell when they change agree.
  sqlite.transaction(() => {
    const start = dayStart(day, tz), end = dayStart(day + 1, tz);
    const seg = buildSegment(sqlite, siteId, tz, day, start, end);
    const st = dayState(sqlite, siteId, tz, day, localDayNumber(Math.max(end, seg.reach + KEEP_MS + DAY) - 1, tz));
    const { token, volatile } = tokenOf(siteId, seg, st);
    entry = { seg, token, ...versionOf(sqlite), at: now, volatile };
  })();
  if (budgetBytes > 0 && entry.seg.size <= budgetBytes) {
    lru.set(key, entry);
    cached.add(entry.seg);
    usedBytes += entry.seg.size;
    evict();
  }
  return entry.seg;
}
