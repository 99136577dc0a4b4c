// Rollups maintained incrementally, on the reports thread: the days hits still arrive for (today,
// and earlier days while a visit of theirs is open) are held in memory (live-day.ts) and each
// refresh round reads only the events committed since the last one, then writes the groups that
// changed. Rebuilding the whole day every round read all of today's events again: on the
// 10M-event bench that cost a third of ingestion.
//
// Exactness: a day is read whole once (when it becomes live, or when the table no longer matches
// it), in one read transaction with the `events` sequence; later rounds read, in one transaction,
// the writer's dirty marks and the events of the marked hours with ids above that sequence value.
// Every event's hour is marked in the transaction that inserts it, and ids come from a counter
// bumped inside the same transactions, so nothing is missed or counted twice — whichever process
// wrote it (`hush import` beside the server included). A visit's totals (bounce, duration, page
// views, exit page) change only with a new event of it; each change takes the visit's old
// contribution out of every group of every live day and puts the new one in.
import type Database from 'better-sqlite3';
import { COL, fetchEventRows } from './aggregate.ts';
import { ROLLUP_DIMENSIONS, type Dimension } from './dimensions.ts';
import { HOUR, dayStart, localDayNumber } from './time-zone.ts';
import { nameIds } from './string-ids.ts';
import { prepared } from './raw-source.ts';
import { HOUR_CODE, LiveDay, S_BYTES, S_ENG, S_EVENTS, S_LOAD_MS, S_LOAD_N, S_PAGEVIEWS, groupKey, newSlot, type Contribution } from './live-day.ts';

/** A visit idle this long is final: its record is folded into its visitor's groups and dropped. */
export const FREEZE_MS = 2 * 3_600_000;

const EXTRA: Dimension[] = [
  { name: '#id', sql: 'e.id', kind: 'event' },
  { name: '#start', sql: 'v.start_ts', kind: 'visit' },
  { name: '#end', sql: 'v.end_ts', kind: 'visit' },
];
const DIMS = [...ROLLUP_DIMENSIONS, ...EXTRA];
const F = COL.FIXED_COLS;
const ID = F + ROLLUP_DIMENSIONS.length, START = ID + 1, END = ID + 2;
// Event dimensions (page, host, name, status) come first in ROLLUP_DIMENSIONS, visit ones after.
const EVENT_DIMS = ROLLUP_DIMENSIONS.filter((d) => d.kind === 'event').map((d) => ({ code: d.code!, col: F + ROLLUP_DIMENSIONS.indexOf(d) }));
const VISIT_DIMS = ROLLUP_DIMENSIONS.filter((d) => d.kind === 'visit').map((d) => ({ code: d.code!, col: F + ROLLUP_DIMENSIONS.indexOf(d) }));
const TOTAL = groupKey(0, null);

type Row = unknown[];

/** One visit's events of one live day. */
interface VisitDay {
  day: LiveDay;
  /** All of them: the total and every visit dimension. */
  tot: Float64Array;
  /** Per page, host, name, status and local hour. */
  ev: Map<number, Float64Array>;
}

interface VisitState {
  c: Contribution;
  /** The visit's value of each visit dimension (VISIT_DIMS order). */
  dims: Array<number | null>;
  endTs: number;
  days: Map<number, VisitDay>;
}

interface SiteState {
  tz: string;
  days: Map<number, LiveDay>;
  visits: Map<number, VisitState>;
}

export interface LiveRound {
  /** Local days the marks touch that are not live: the caller rebuilds them whole. */
  rebuild: number[];
  /** The marks read in the round's snapshot (site, hour, gen), to clear once all is written. */
  marks: number[][];
  /** Events applied (read incrementally or with whole days). */
  events: number;
}

export class LiveRollups {
  private readonly sites = new Map<number, SiteState>();

  /** Days held and their approximate memory. */
  stats(): { days: number; visits: number; bytes: number } {
    let days = 0, visits = 0, bytes = 0;
    for (const s of this.sites.values()) {
      days += s.days.size;
      visits += s.visits.size;
      for (const d of s.days.values()) bytes += d.bytes;
      bytes += s.visits.size * 600;
    }
    return { days, visits, bytes };
  }

  /** Forgets a site (removed, or its time zone changed: its local days are other days now). */
  drop(siteId: number): void {
    this.sites.delete(siteId);
  }

  /** Forgets sites not in `ids`. */
  keepOnly(ids: Set<number>): void {
    for (const id of this.sites.keys()) if (!ids.has(id)) this.sites.delete(id);
  }

  /**
   * One round for a site: reads its dirty marks and what is new under them, updates the live days
   * and writes their changed groups. Days the marks touch that are not live are returned for a
   * whole rebuild; the marks are returned for the caller to clear after that.
   */
  refreshSite(sqlite: Database.Database, site: { id: number; timezone: string }, now: number): LiveRound {
    let st = this.sites.get(site.id);
    if (st && st.tz !== site.timezone) st = undefined;
    if (!st) this.sites.set(site.id, (st = { tz: site.timezone, days: new Map(), visits: new Map() }));
    const state = st;
    const tz = state.tz;
    const today = localDayNumber(now, tz);
    const rebuild = new Set<number>();
    let marks: number[][] = [];
    let events = 0;
    let ids = nameIds(sqlite, site.id);
    // Days to read whole: today when not held yet, and any day the table no longer matches.
    let load = new Set<number>();
    if (!state.days.has(today)) load.add(today);
    for (const d of state.days.values()) if (d.stale) load.add(d.day);
    for (let pass = 0; ; pass++) {
      const needed = new Set<number>();
      sqlite.transaction(() => {
        // Inside the snapshot: an event name stored since would otherwise be taken for a custom event.
        ids = nameIds(sqlite, site.id);
        const seq = (prepared(sqlite, "SELECT value FROM sequences WHERE name = 'events'").get() as number[] | undefined)?.[0] ?? 0;
        for (const day of load) {
          this.forgetDay(state, day);
          const d = new LiveDay(site.id, day);
          d.seq = seq;
          state.days.set(day, d);
          const rows = fetchEventRows(sqlite, { siteId: site.id, start: dayStart(day, tz), end: dayStart(day + 1, tz), tz, dims: DIMS, filter: null }).rows;
          events += this.apply(state, rows, ids, needed, -Infinity);
        }
        if (pass > 0) return;
        // The marks and the events under them, in the same snapshot.
        marks = prepared(sqlite, 'SELECT site_id, hour, gen FROM rollup_dirty WHERE site_id = ? ORDER BY hour').all(site.id) as number[][];
        let minSeq = Infinity;
        for (const d of state.days.values()) if (!load.has(d.day)) minSeq = Math.min(minSeq, d.seq);
        for (const [start, end] of liveRuns(marks, state, tz, rebuild)) {
          if (minSeq === Infinity) break;
          const rows = fetchEventRows(sqlite, { siteId: site.id, start, end, tz, dims: DIMS, filter: { sql: 'e.id > ?', params: [minSeq] } }).rows;
          events += this.apply(state, rows, ids, needed, 0);
        }
        for (const d of state.days.values()) d.seq = Math.max(d.seq, seq);
      })();
      for (const d of load) rebuild.delete(d);
      // Days a visit reaches that are not held, and days an event showed to be out of date.
      load = new Set([...needed].filter((d) => !state.days.has(d)));
      for (const d of state.days.values()) if (d.stale) load.add(d.day);
      if (!load.size || pass >= 2) {
        for (const d of load) rebuild.add(d);
        break;
      }
    }
    this.freeze(state, now);
    sqlite.transaction(() => {
      for (const d of state.days.values()) d.flush(sqlite, now);
    })();
    // Days no open visit reaches any more are final: their rows stay, their memory goes.
    for (const d of [...state.days.values()]) if (d.day !== today && d.openVisits === 0 && !d.stale) state.days.delete(d.day);
    for (const d of state.days.keys()) rebuild.delete(d);
    return { rebuild: [...rebuild].sort((a, b) => a - b), marks, events };
  }

  /** Drops a day's state and the visit records on it (before it is read whole again). */
  private forgetDay(state: SiteState, day: number): void {
    if (!state.days.has(day)) return;
    state.days.delete(day);
    for (const [vid, v] of state.visits) {
      v.days.delete(day);
      if (v.days.size === 0) state.visits.delete(vid);
    }
  }

  /**
   * Applies event rows (with their visits' current values). Rows at or below their day's sequence
   * value are already in (`seqFloor` -Infinity: a whole-day read, all rows are new). Earlier days
   * a visit reaches that are not live go to `needed`.
   */
  private apply(state: SiteState, rows: Row[], ids: { pageview: number; engagement: number }, needed: Set<number>, seqFloor: number): number {
    const byVisit = new Map<number, Row[]>();
    let n = 0;
    for (const r of rows) {
      const day = state.days.get(r[COL.DAY] as number);
      if (!day) continue; // a day that is not live: its marks send it to a whole rebuild
      if (seqFloor !== -Infinity && (r[ID] as number) <= day.seq) continue;
      const vid = r[COL.VID] as number;
      if (vid !== 0) {
        // An event for a visit already folded in (a write long after its time): the days it was
        // folded into are read again (its totals there change too).
        let refolded = false;
        for (const d of state.days.values()) {
          if (d.frozenVisits.has(vid)) {
            d.stale = true;
            refolded ||= d === day;
          }
        }
        if (refolded) continue;
      }
      n++;
      let list = byVisit.get(vid);
      if (!list) byVisit.set(vid, (list = []));
      list.push(r);
    }
    for (const [vid, list] of byVisit) {
      if (vid === 0) {
        // Requests outside any visit only add: no visit total can change under them.
        const c: Contribution = { visitor: '', counted: false, bounce: 0, duration: 0, visitPageviews: 0 };
        for (const r of list) {
          const vd: VisitDay = { day: state.days.get(r[COL.DAY] as number)!, tot: newSlot(), ev: new Map() };
          record(vd, r, ids);
          contribute(vd, c, VISIT_DIMS.map((d) => r[d.col] as number | null), 1);
        }
        continue;
      }
      const last = list[list.length - 1];
      let v = state.visits.get(vid);
      if (v) for (const vd of v.days.values()) contribute(vd, v.c, v.dims, -1);
      else state.visits.set(vid, (v = { c: null!, dims: [], endTs: 0, days: new Map() }));
      v.c = {
        visitor: `${last[COL.VHI]}:${last[COL.VLO]}`, counted: true,
        bounce: (last[COL.BOUNCE] as number) ?? 0, duration: (last[COL.DUR] as number) ?? 0, visitPageviews: (last[COL.VPV] as number) ?? 0,
      };
      v.dims = VISIT_DIMS.map((d) => last[d.col] as number | null);
      v.endTs = (last[END] as number) ?? 0;
      for (const r of list) {
        const dayNo = r[COL.DAY] as number;
        let vd = v.days.get(dayNo);
        if (!vd) {
          const day = state.days.get(dayNo)!;
          v.days.set(dayNo, (vd = { day, tot: newSlot(), ev: new Map() }));
          day.openVisits++;
        }
        record(vd, r, ids);
      }
      for (const vd of v.days.values()) contribute(vd, v.c, v.dims, 1);
      // A visit that began on a day not held: that day's totals for it change too.
      const start = last[START] as number | null;
      if (start !== null) {
        const first = localDayNumber(start, state.tz);
        for (let d = first; d < (last[COL.DAY] as number); d++) if (!state.days.has(d)) needed.add(d);
      }
    }
    return n;
  }

  /** Folds visits idle past FREEZE_MS into their visitors' groups and drops their records. */
  private freeze(state: SiteState, now: number): void {
    for (const [vid, v] of state.visits) {
      if (v.endTs >= now - FREEZE_MS) continue;
      for (const vd of v.days.values()) {
        const keys: number[] = [];
        if (vd.tot[S_EVENTS] > 0) {
          keys.push(TOTAL);
          for (let i = 0; i < VISIT_DIMS.length; i++) keys.push(groupKey(VISIT_DIMS[i].code, v.dims[i]));
        }
        for (const [k, s] of vd.ev) if (s[S_EVENTS] > 0) keys.push(k);
        vd.day.freeze(v.c.visitor, keys);
        vd.day.frozenVisits.add(vid);
        vd.day.openVisits--;
      }
      state.visits.delete(vid);
    }
  }
}

/** Adds one event row to a visit's slots of its day. */
function record(vd: VisitDay, r: Row, ids: { pageview: number; engagement: number }): void {
  const name = r[COL.NAME] as number;
  const eng = name === ids.engagement;
  const pv = name === ids.pageview;
  const addTo = (s: Float64Array) => {
    if (eng) {
      s[S_ENG] = (s[S_ENG] < 0 ? 0 : s[S_ENG]) + ((r[COL.ENG] as number) ?? 0);
      return;
    }
    s[S_EVENTS]++;
    s[S_BYTES] += (r[COL.BYTES] as number) ?? 0;
    if (pv) {
      s[S_PAGEVIEWS]++;
      if (r[COL.LOAD] !== null) { s[S_LOAD_MS] += r[COL.LOAD] as number; s[S_LOAD_N]++; }
    }
  };
  addTo(vd.tot);
  for (const { code, col } of EVENT_DIMS) addTo(slotOf(vd, groupKey(code, r[col] as number | null)));
  addTo(slotOf(vd, groupKey(HOUR_CODE, r[COL.HR] as number)));
}

function slotOf(vd: VisitDay, key: number): Float64Array {
  let s = vd.ev.get(key);
  if (!s) vd.ev.set(key, (s = newSlot()));
  return s;
}

/** Adds (1) or takes out (-1) a visit's day from every group it is in. */
function contribute(vd: VisitDay, c: Contribution, dims: Array<number | null>, sign: 1 | -1): void {
  const day = vd.day;
  day.add(TOTAL, vd.tot, c, sign);
  for (let i = 0; i < VISIT_DIMS.length; i++) day.add(groupKey(VISIT_DIMS[i].code, dims[i]), vd.tot, c, sign);
  for (const [k, s] of vd.ev) day.add(k, s, c, sign);
}

/**
 * The marked hours that fall in live days, merged into [start, end) runs; days of marked hours
 * outside them go to `rebuild`.
 */
function liveRuns(marks: number[][], state: SiteState, tz: string, rebuild: Set<number>): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const [, hour] of marks) {
    for (const d of [localDayNumber(hour * HOUR, tz), localDayNumber(hour * HOUR + HOUR - 1, tz)]) {
      if (!state.days.has(d)) rebuild.add(d);
    }
    const start = hour * HOUR, end = start + HOUR;
    const last = runs[runs.length - 1];
    if (last && last[1] === start) last[1] = end;
    else runs.push([start, end]);
  }
  return runs;
}
