// Rollups maintained incrementally, on the reports thread: the days hits still arrive for (today,
// and earlier days while a visit of theirs is open) are held in memory (live-day.ts); each round
// applies what was committed since the last one and writes the groups that changed. Rebuilding
// the whole day every round read all of today's events again: on the 10M-event bench that cost a
// third of ingestion.
//
// What is new comes from the writer thread's batch digests (batch-digest.ts: its events and
// visits with text already resolved to ids), so nothing it wrote is read back. Without digests
// (tests, HUSH_LIVE_ROLLUPS=0) and for the ids between digests (another process wrote them:
// `hush import` beside the server), the events of the writer's dirty-marked hours above a
// sequence value are read in one transaction with the marks. Every event's hour is marked in the
// transaction that inserts it, and ids come from a counter bumped inside the same transactions,
// so nothing is missed or counted twice. A day is read whole once (when it becomes live, or when
// the table no longer matches it). A visit's totals (bounce, duration, page views, exit page)
// change only with a new event of it; each change takes the visit's old contribution out of every
// group of every live day and puts the new one in.
import type Database from 'better-sqlite3';
import { ROLLUP_DIMENSIONS, VISIT_JOINS } from './dimensions.ts';
import { DAY, HOUR, dayStart, localDayNumber, offsetSegments } from './time-zone.ts';
import { nameIds } from './string-ids.ts';
import { prepared } from './raw-source.ts';
import { Digest, digestLast } from '../store/batch-digest.ts';
import { EMPTY_SLOT, HOUR_CODE, LiveDay, SLOT, S_BYTES, S_ENG, S_EVENTS, S_LOAD_MS, S_LOAD_N, S_PAGEVIEWS, S_SCROLL, type Contribution } from './live-day.ts';
import { RecordPool } from './record-pool.ts';

/**
 * A visit idle this long is final: its record is folded into its visitor's groups and dropped.
 * The writer forgets visits idle for an hour (checked every minute); a later event of one makes
 * its days be read again, so this only has to be right nearly always.
 */
export const FREEZE_MS = 75 * 60_000;
/** Digests waiting for a round, at most (~290 bytes per hit: ~200k hits). */
const QUEUE_BYTES = 64 * 2 ** 20;

// Event rows: only the event's own columns (the visit join and wide rows cost ~4× more per event).
const E_ID = 0, E_TS = 1, E_VID = 2, E_NAME = 3, E_BYTES = 4, E_LOAD = 5, E_ENG = 6, E_SCROLL = 7, E_DIMS = 8;
const EVENT_DIMS = ROLLUP_DIMENSIONS.filter((d) => d.kind === 'event');
const EVENT_SQL = `SELECT e.id, e.ts, e.visit_id, e.name_id, e.bytes, e.load_ms, e.engagement_ms, e.scroll_depth, ${EVENT_DIMS.map((d) => d.sql).join(', ')}
  FROM events e WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ? AND e.id > ? AND e.id <= ?`;
// The event dimensions' values follow, then readEvents() appends the local day and hour.
const E_DAY = E_DIMS + EVENT_DIMS.length, E_HOUR = E_DAY + 1;
// Visit rows, read by id for the visits the new events belong to.
const VISIT_DIMS = ROLLUP_DIMENSIONS.filter((d) => d.kind === 'visit').map((d) => d.code!);
const V_ID = 0, V_HI = 1, V_LO = 2, V_START = 3, V_END = 4, V_BOUNCE = 5, V_PV = 6, V_DIMS = 7;
const VISIT_SQL = `SELECT v.id, v.visitor_id >> 32, v.visitor_id & 4294967295, v.start_ts, v.end_ts, v.bounce, v.pageviews,
  ${ROLLUP_DIMENSIONS.filter((d) => d.kind === 'visit').map((d) => d.sql).join(', ')}
  FROM json_each(?) j JOIN visits v ON v.id = j.value ${VISIT_JOINS}`;

type Row = unknown[];
/** Visit rows by id, as a digest gives them (Digest; a Map would do). */
interface VisitRows {
  has(visitId: number): boolean;
  get(visitId: number): Row | undefined;
}

/** Requests outside any visit: no visit, visitor or engagement visit. */
const OUTSIDE: Contribution = { counted: false, bounce: 0, duration: 0, visitPageviews: 0 };
const ND = VISIT_DIMS.length;

// The open visits are records in three pools per site (record-pool.ts), linked by offsets:
// a visit → its records per live day (usually one; two or three across midnight) → per day, its
// events' slots per event dimension value and local hour. The visit-wide slot and the groups it
// counts in (the total and each visit dimension's value) sit in the day record itself.
/** A visit: its row's numbers (start NaN when null), the first of its day records, its dimension ids (NaN null). */
const VR_VID = 0, VR_BOUNCE = 1, VR_DURATION = 2, VR_VPV = 3, VR_END = 4, VR_START = 5, VR_VERSION = 6, VR_HI = 7, VR_LO = 8, VR_HEAD = 9, VR_DIMS = 10;
/** One visit's events of one live day: next record of the visit, day, visitor, first slot, the visit-wide slot, its groups. */
const DR_NEXT = 0, DR_DAY = 1, DR_WHO = 2, DR_EV = 3, DR_TOT = 4, DR_TOTG = DR_TOT + SLOT;
/** A slot of one event dimension value or local hour: next slot, code, value (-1 null), group, the slot. */
const ER_NEXT = 0, ER_CODE = 1, ER_VALUE = 2, ER_GROUP = 3, ER_SLOT = 4;
const NONE = -1;
/** A visit whose row was removed meanwhile: one visitor for all such, as the row read gives none. */
const NO_VISITOR = 0xffffffff;

interface SiteState {
  tz: string;
  frozeAt: number;
  days: Map<number, LiveDay>;
  /** Open visits: visit id → offset of its record in `visitPool`. */
  visits: Map<number, number>;
  visitPool: RecordPool;
  dayPool: RecordPool;
  slotPool: RecordPool;
}

const newSite = (tz: string): SiteState => ({
  tz, frozeAt: -Infinity, days: new Map(), visits: new Map(),
  visitPool: new RecordPool(VR_DIMS + ND), dayPool: new RecordPool(DR_TOTG + 1 + ND), slotPool: new RecordPool(ER_SLOT + SLOT, 1024),
});

/**
 * What a round takes from the writer's digests (plan()): the digests to apply, the id ranges
 * between them that other processes wrote (read from SQLite), and how far that gets.
 */
export interface RoundPlan {
  digests: Digest[];
  gaps: Array<[number, number]>;
  applied: number;
}

export interface LiveRound {
  /** Local days the marks touch that are not live: the caller rebuilds them whole. */
  rebuild: number[];
  /** The marks read in the round's snapshot (site, hour, gen), to clear once all is written. */
  marks: number[][];
  /** Events applied (read incrementally or with whole days). */
  events: number;
}

/** A visit with no row (removed meanwhile) counts as SQL's LEFT JOIN does: no visitor id, zeros. */
const NO_VISIT: Row = [0, null, null, null, 0, 0, 0, ...VISIT_DIMS.map(() => null)];

export class LiveRollups {
  private readonly sites = new Map<number, SiteState>();
  /**
   * Digests as they arrived, unpacked only as a round applies them, one at a time (Digest):
   * decoded at once, a second's rows (~5k arrays) lived until the round and every scavenge copied
   * them (measured with --trace-gc: the reports thread's scavenges took ~14 ms each, as long as the
   * writer's); decoded whole when the round began, they still lived through the round.
   */
  private queue: Float64Array[] = [];
  /** Every event with an id up to this is in (from digests, or read for the gaps between them). */
  private applied = 0;
  /** The `events` sequence at the previous plan(): ids up to it not in a digest by now are another writer's. */
  private prevSeq = -1;

  private queuedBytes = 0;

  /**
   * A batch the writer committed (batch-digest.ts). Past QUEUE_BYTES waiting (rounds far apart,
   * or stalled) the queue is dropped: its ids become a gap the next round reads from SQLite.
   */
  receive(buf: Float64Array): void {
    this.queuedBytes += buf.byteLength;
    if (this.queuedBytes > QUEUE_BYTES) {
      this.queue = [];
      this.queuedBytes = buf.byteLength;
    }
    this.queue.push(buf);
  }

  /**
   * Sorts the digests received since the last round into the ones to apply and the id ranges other
   * processes wrote between them; ids after the last digest wait one round (a digest may be on its
   * way) unless they were already there at the previous round.
   */
  plan(sqlite: Database.Database): RoundPlan {
    const seq = (prepared(sqlite, "SELECT value FROM sequences WHERE name = 'events'").get() as number[] | undefined)?.[0] ?? 0;
    if (this.prevSeq < 0) this.applied = this.prevSeq = seq; // days are read whole at first
    const digests: Digest[] = [], gaps: Array<[number, number]> = [];
    let cursor = this.applied;
    for (const buf of this.queue) {
      if (digestLast(buf) <= cursor) continue; // read from SQLite already (it was late)
      const d = new Digest(buf);
      if (d.prev > cursor) gaps.push([cursor, d.prev]);
      cursor = d.last;
      digests.push(d);
    }
    if (this.prevSeq > cursor) {
      gaps.push([cursor, this.prevSeq]);
      cursor = this.prevSeq;
    }
    this.queue = [];
    this.queuedBytes = 0;
    this.prevSeq = seq;
    return { digests, gaps, applied: cursor };
  }

  /** After every site's round with `plan`. */
  finish(plan: RoundPlan): void {
    this.applied = plan.applied;
  }

  /** Days held and their approximate memory. */
  stats(): { days: number; visits: number; bytes: number } {
    let days = 0, visits = 0, bytes = 0;
    for (const s of this.sites.values()) {
      days += s.days.size;
      visits += s.visits.size;
      for (const d of s.days.values()) bytes += d.bytes;
      bytes += s.visitPool.bytes + s.dayPool.bytes + s.slotPool.bytes + s.visits.size * 24;
    }
    return { days, visits, bytes };
  }

  /** Forgets sites not in `ids` (removed). */
  keepOnly(ids: Set<number>): void {
    for (const id of this.sites.keys()) if (!ids.has(id)) this.sites.delete(id);
  }

  /**
   * One round for a site: reads its dirty marks and what is new under them, updates the live days
   * and writes their changed groups. Days the marks touch that are not live are returned for a
   * whole rebuild; the marks are returned for the caller to clear after that.
   */
  refreshSite(sqlite: Database.Database, site: { id: number; timezone: string }, now: number, plan?: RoundPlan): LiveRound {
    let st = this.sites.get(site.id);
    // A new time zone makes other local days: start over.
    if (st && st.tz !== site.timezone) st = undefined;
    if (!st) this.sites.set(site.id, (st = newSite(site.timezone)));
    const state = st;
    const tz = state.tz;
    const today = localDayNumber(now, tz);
    const rebuild = new Set<number>();
    let marks: number[][] = [];
    let events = 0;
    // Days to read whole: today when not held yet, and any day the table no longer matches.
    let load = new Set<number>();
    if (!state.days.has(today)) load.add(today);
    for (const d of state.days.values()) if (d.stale) load.add(d.day);
    // The writer's batches first: a day read whole below then has the newer visit rows.
    if (plan) {
      const ids = nameIds(sqlite, site.id), reached = new Set<number>();
      for (const d of plan.digests) {
        // Unpacked here, one digest at a time: its rows are garbage again before the next.
        const rows = d.events(site.id);
        if (rows) events += this.apply(sqlite, state, withLocalTime(rows, tz), ids, reached, true, d.last, d);
      }
      for (const d of reached) if (!state.days.has(d)) load.add(d);
    }
    let clear: number[][] = [];
    for (let pass = 0; ; pass++) {
      const needed = new Set<number>();
      sqlite.transaction(() => {
        // Inside the snapshot: an event name stored since would otherwise be taken for a custom event.
        const ids = nameIds(sqlite, site.id);
        const seq = (prepared(sqlite, "SELECT value FROM sequences WHERE name = 'events'").get() as number[] | undefined)?.[0] ?? 0;
        for (const day of load) {
          this.forgetDay(state, day);
          const d = new LiveDay(site.id, day, (rec) => countedGroups(state, rec));
          d.seq = seq;
          state.days.set(day, d);
          events += this.apply(sqlite, state, readEvents(sqlite, site.id, tz, dayStart(day, tz), dayStart(day + 1, tz), -1, seq), ids, needed, false, seq);
        }
        if (pass > 0) return;
        // The marks and the events under them, in the same snapshot.
        marks = prepared(sqlite, 'SELECT site_id, hour, gen FROM rollup_dirty WHERE site_id = ? ORDER BY hour').all(site.id) as number[][];
        let minSeq = Infinity;
        for (const d of state.days.values()) if (!load.has(d.day)) minSeq = Math.min(minSeq, d.seq);
        // Without digests everything new is read here; with them, only what other processes wrote.
        const ranges: Array<[number, number]> = plan ? plan.gaps : [[minSeq, seq]];
        for (const [start, end] of liveRuns(marks, state, tz, rebuild)) {
          if (minSeq === Infinity) break;
          for (const [after, upTo] of ranges) {
            if (upTo <= minSeq) continue;
            events += this.apply(sqlite, state, readEvents(sqlite, site.id, tz, start, end, Math.max(after, minSeq), upTo), ids, needed, true, seq);
          }
        }
        const upTo = plan ? plan.applied : seq;
        for (const d of state.days.values()) if (!load.has(d.day)) d.seq = Math.max(d.seq, upTo);
        clear = upTo >= seq ? marks : clearable(sqlite, marks, upTo, now);
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
    return { rebuild: [...rebuild].sort((a, b) => a - b), marks: clear, events };
  }

  /** Drops a day's state and the visit records on it (before it is read whole again). */
  private forgetDay(state: SiteState, day: number): void {
    if (!state.days.has(day)) return;
    state.days.delete(day);
    for (const [vid, v] of state.visits) {
      const V = state.visitPool.data, D = state.dayPool.data;
      let prev = NONE;
      for (let d = V[v + VR_HEAD]; d !== NONE;) {
        const next = D[d + DR_NEXT];
        if (D[d + DR_DAY] === day) {
          if (prev === NONE) V[v + VR_HEAD] = next; else D[prev + DR_NEXT] = next;
          releaseDay(state, d);
        } else prev = d;
        d = next;
      }
      if (V[v + VR_HEAD] === NONE) {
        state.visitPool.release(v);
        state.visits.delete(vid);
      }
    }
  }

  /**
   * Applies event rows, with their visits' current rows read in the same snapshot. With
   * `incremental`, rows at or below their day's sequence value are already in. Earlier days a
   * visit reaches that are not live go to `needed`.
   */
  private apply(sqlite: Database.Database, state: SiteState, rows: Row[], ids: { pageview: number; engagement: number }, needed: Set<number>,
    incremental: boolean, version: number, given?: VisitRows): number {
    const byVisit = new Map<number, Row[]>();
    let n = 0;
    // A visit id above every folded one is in no day's frozenVisits; visit ids grow, so that is
    // nearly every event's, and the lookups per live day are skipped.
    let maxFrozen = -1;
    for (const d of state.days.values()) if (d.maxFrozenVisit > maxFrozen) maxFrozen = d.maxFrozenVisit;
    for (const r of rows) {
      const day = state.days.get(r[E_DAY] as number);
      if (day && incremental && (r[E_ID] as number) <= day.seq) continue;
      const vid = r[E_VID] as number;
      if (vid !== 0 && vid <= maxFrozen) {
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
      let list = byVisit.get(vid);
      if (!day) {
        // A day that is not live (its marks send it to a whole rebuild). The event may still change
        // its visit's totals on the live days it reaches (a late hit of another writer).
        if (vid !== 0 && !list && state.visits.has(vid)) byVisit.set(vid, []);
        continue;
      }
      n++;
      if (!list) byVisit.set(vid, (list = []));
      list.push(r);
    }
    // A digest carries the visits its batch changed; a log request joining a visit changes none,
    // so a visit held already keeps its row, and one not held is read.
    const read = new Map<number, Row>();
    const wanted = [...byVisit.keys()].filter((v) => v !== 0 && !given?.has(v) && !(given && state.visits.has(v)));
    if (wanted.length) for (const v of prepared(sqlite, VISIT_SQL).all(JSON.stringify(wanted)) as Row[]) read.set(v[V_ID] as number, v);
    let startsDay = NaN, startsAt = 0;
    for (const [vid, list] of byVisit) {
      if (vid === 0) {
        // Requests outside any visit only add: no visit total can change under them.
        for (const r of list) {
          const d = newDayRecord(state, state.days.get(r[E_DAY] as number)!, NONE);
          record(state, d, r, ids);
          contribute(state, d, OUTSIDE, 1);
          releaseDay(state, d);
        }
        continue;
      }
      let v = state.visits.get(vid);
      const vr = given?.get(vid) ?? read.get(vid) ?? (v !== undefined ? null : NO_VISIT);
      if (v !== undefined) contributeVisit(state, v, -1);
      else {
        v = state.visitPool.alloc();
        const V = state.visitPool.data;
        V[v + VR_VID] = vid;
        V[v + VR_BOUNCE] = V[v + VR_DURATION] = V[v + VR_VPV] = V[v + VR_END] = 0;
        V[v + VR_START] = NaN;
        V[v + VR_VERSION] = -1;
        V[v + VR_HI] = (vr![V_HI] as number | null) ?? NO_VISITOR;
        V[v + VR_LO] = (vr![V_LO] as number | null) ?? NO_VISITOR;
        V[v + VR_HEAD] = NONE;
        for (let i = 0; i < ND; i++) V[v + VR_DIMS + i] = NaN;
        state.visits.set(vid, v);
      }
      const V = state.visitPool.data;
      if (vr && version > V[v + VR_VERSION]) {
        V[v + VR_VERSION] = version;
        const start = vr[V_START] as number | null, end = vr[V_END] as number;
        V[v + VR_BOUNCE] = (vr[V_BOUNCE] as number) ?? 0;
        V[v + VR_DURATION] = start === null ? 0 : end - start;
        V[v + VR_VPV] = (vr[V_PV] as number) ?? 0;
        V[v + VR_END] = end;
        V[v + VR_START] = start ?? NaN;
        let moved = false;
        for (let i = 0; i < ND; i++) {
          const x = (vr[V_DIMS + i] as number | null) ?? NaN;
          if (!Object.is(x, V[v + VR_DIMS + i])) { V[v + VR_DIMS + i] = x; moved = true; }
        }
        // The exit page changed: the visit's records move to the groups of its new value.
        if (moved) for (let d = V[v + VR_HEAD]; d !== NONE; d = state.dayPool.data[d + DR_NEXT]) setTotGroups(state, d, state.days.get(state.dayPool.data[d + DR_DAY])!, v);
      }
      for (const r of list) {
        const dayNo = r[E_DAY] as number;
        let d = V[v + VR_HEAD];
        while (d !== NONE && state.dayPool.data[d + DR_DAY] !== dayNo) d = state.dayPool.data[d + DR_NEXT];
        if (d === NONE) {
          const day = state.days.get(dayNo)!;
          d = newDayRecord(state, day, v);
          const D = state.dayPool.data;
          D[d + DR_NEXT] = V[v + VR_HEAD];
          V[v + VR_HEAD] = d;
          D[d + DR_WHO] = day.visitor(V[v + VR_HI], V[v + VR_LO], d);
          day.openVisits++;
        }
        record(state, d, r, ids);
      }
      contributeVisit(state, v, 1);
      // A visit that began on a day not held: that day's totals for it change too.
      const start = V[v + VR_START];
      if (Number.isNaN(start) || !list.length) continue;
      const lastDay = list[list.length - 1][E_DAY] as number;
      // dayStart builds a key string per call: asked once per day here, not once per visit.
      if (lastDay !== startsDay) startsAt = dayStart((startsDay = lastDay), state.tz);
      if (start < startsAt) {
        for (let d = localDayNumber(start, state.tz); d < lastDay; d++) if (!state.days.has(d)) needed.add(d);
      }
    }
    return n;
  }

  /** Folds visits idle past FREEZE_MS into their visitors' groups and drops their records. */
  private freeze(state: SiteState, now: number): void {
    // Once a minute is enough (visits idle 75 minutes); every round it walked every open visit.
    if (now - state.frozeAt < 60_000 && now >= state.frozeAt) return;
    state.frozeAt = now;
    for (const [vid, v] of state.visits) {
      const V = state.visitPool.data, D = state.dayPool.data;
      if (V[v + VR_END] >= now - FREEZE_MS) continue;
      for (let d = V[v + VR_HEAD]; d !== NONE;) {
        const next = D[d + DR_NEXT];
        const day = state.days.get(D[d + DR_DAY])!;
        day.freeze(D[d + DR_WHO], countedGroups(state, d));
        day.frozenVisits.add(vid);
        if (vid > day.maxFrozenVisit) day.maxFrozenVisit = vid;
        day.openVisits--;
        releaseDay(state, d);
        d = next;
      }
      state.visitPool.release(v);
      state.visits.delete(vid);
    }
  }
}

/**
 * Events of a site in [start, end) with ids above `afterId`, each with its local day and hour
 * appended (from the zone's offsets over the range: a short list, at most a DST change or two).
 */
function readEvents(sqlite: Database.Database, siteId: number, tz: string, start: number, end: number, afterId: number, upTo: number): Row[] {
  const rows = prepared(sqlite, EVENT_SQL).all(siteId, start, end, afterId, upTo) as Row[];
  return withLocalTime(rows, tz, start, end);
}

/** Appends each event row's local day and hour (from the zone's offsets over the rows' span). */
function withLocalTime(rows: Row[], tz: string, start?: number, end?: number): Row[] {
  if (!rows.length) return rows;
  let segs: Array<[number, number]>;
  if (start === undefined || end === undefined) {
    start = end = rows[0][E_TS] as number;
    for (const r of rows) {
      const ts = r[E_TS] as number;
      if (ts < start) start = ts;
      if (ts >= end) end = ts + 1;
    }
    segs = daySegments(start, end, tz);
  } else segs = offsetSegments(start, end, tz);
  for (const r of rows) {
    const ts = r[E_TS] as number;
    let off = segs[0][1];
    for (let i = 1; i < segs.length && ts >= segs[i][0]; i++) off = segs[i][1];
    const local = ts + off;
    // After the event dimensions (digest rows come with the two places already there).
    r[E_DAY] = Math.floor(local / DAY);
    r[E_HOUR] = Math.floor(local / HOUR);
  }
  return rows;
}

/**
 * The zone's offsets over the whole UTC days around [start, end), kept for the next digests: each
 * digest (~100 hits) searched them again, ~2 % of a round (Intl calls) for the same answer.
 */
function daySegments(start: number, end: number, tz: string): Array<[number, number]> {
  const from = Math.floor(start / DAY) * DAY, to = (Math.floor((end - 1) / DAY) + 1) * DAY;
  const key = `${tz} ${from} ${to}`;
  let segs = segmentCache.get(key);
  if (!segs) {
    if (segmentCache.size >= 16) segmentCache.clear();
    segmentCache.set(key, (segs = offsetSegments(from, to, tz)));
  }
  return segs;
}
const segmentCache = new Map<string, Array<[number, number]>>();

/** A new day record of visit `v` (NONE: requests outside any visit) on `day`, empty. */
function newDayRecord(state: SiteState, day: LiveDay, v: number): number {
  const d = state.dayPool.alloc(), D = state.dayPool.data;
  D[d + DR_NEXT] = NONE;
  D[d + DR_DAY] = day.day;
  D[d + DR_WHO] = NONE;
  D[d + DR_EV] = NONE;
  D.set(EMPTY_SLOT, d + DR_TOT);
  setTotGroups(state, d, day, v);
  return d;
}

/** The groups a day record's visit-wide slot goes to: the total and the visit's dimension values. */
function setTotGroups(state: SiteState, d: number, day: LiveDay, v: number): void {
  const D = state.dayPool.data, V = state.visitPool.data;
  D[d + DR_TOTG] = day.group(0, null).idx;
  for (let i = 0; i < ND; i++) {
    const x = v === NONE ? NaN : V[v + VR_DIMS + i];
    D[d + DR_TOTG + 1 + i] = day.group(VISIT_DIMS[i], Number.isNaN(x) ? null : x).idx;
  }
}

/** Frees a day record and its slots. */
function releaseDay(state: SiteState, d: number): void {
  const E = state.slotPool.data;
  for (let e = state.dayPool.data[d + DR_EV]; e !== NONE;) {
    const next = E[e + ER_NEXT];
    state.slotPool.release(e);
    e = next;
  }
  state.dayPool.release(d);
}

/** The groups (indices in its day) a day record counts its visit in (as a visit, and so for its visitor). */
function countedGroups(state: SiteState, d: number): number[] {
  const D = state.dayPool.data, E = state.slotPool.data, out: number[] = [];
  if (D[d + DR_TOT + S_EVENTS] > 0) for (let i = 0; i <= ND; i++) out.push(D[d + DR_TOTG + i]);
  for (let e = D[d + DR_EV]; e !== NONE; e = E[e + ER_NEXT]) if (E[e + ER_SLOT + S_EVENTS] > 0) out.push(E[e + ER_GROUP]);
  return out;
}

/** Adds one event row to a day record's slots. */
function record(state: SiteState, d: number, r: Row, ids: { pageview: number; engagement: number }): void {
  const name = r[E_NAME] as number;
  const kind = name === ids.engagement ? ENGAGEMENT : name === ids.pageview ? PAGEVIEW : OTHER;
  const engMs = (r[E_ENG] as number) ?? 0, bytes = (r[E_BYTES] as number) ?? 0, load = (r[E_LOAD] as number | null) ?? -1;
  const depth = kind === ENGAGEMENT ? ((r[E_SCROLL] as number | null) ?? -1) : -1;
  addEvent(state.dayPool.data, d + DR_TOT, kind, engMs, bytes, load, depth);
  for (let i = 0; i < EVENT_DIMS.length; i++) {
    const e = slotOf(state, d, EVENT_DIMS[i].code!, r[E_DIMS + i] as number | null);
    addEvent(state.slotPool.data, e + ER_SLOT, kind, engMs, bytes, load, depth);
  }
  const e = slotOf(state, d, HOUR_CODE, r[E_HOUR] as number);
  addEvent(state.slotPool.data, e + ER_SLOT, kind, engMs, bytes, load, depth);
}

const OTHER = 0, PAGEVIEW = 1, ENGAGEMENT = 2;

/** Adds one event to the slot at `at` (a function of its own, not a closure per event: ~1 % of a round). */
function addEvent(s: Float64Array, at: number, kind: number, engMs: number, bytes: number, load: number, depth: number): void {
  if (kind === ENGAGEMENT) {
    s[at + S_ENG] = (s[at + S_ENG] < 0 ? 0 : s[at + S_ENG]) + engMs;
    if (depth > s[at + S_SCROLL]) s[at + S_SCROLL] = depth;
    return;
  }
  s[at + S_EVENTS]++;
  s[at + S_BYTES] += bytes;
  if (kind === PAGEVIEW) {
    s[at + S_PAGEVIEWS]++;
    if (load >= 0) { s[at + S_LOAD_MS] += load; s[at + S_LOAD_N]++; }
  }
}

/** The slot of a dimension value in a day record (created empty). */
function slotOf(state: SiteState, d: number, code: number, value: number | null): number {
  const v = value ?? -1, D = state.dayPool.data;
  let E = state.slotPool.data;
  for (let e = D[d + DR_EV]; e !== NONE; e = E[e + ER_NEXT]) if (E[e + ER_CODE] === code && E[e + ER_VALUE] === v) return e;
  const e = state.slotPool.alloc();
  E = state.slotPool.data;
  E[e + ER_NEXT] = D[d + DR_EV];
  E[e + ER_CODE] = code;
  E[e + ER_VALUE] = v;
  E[e + ER_GROUP] = state.days.get(D[d + DR_DAY])!.group(code, value).idx;
  E.set(EMPTY_SLOT, e + ER_SLOT);
  D[d + DR_EV] = e;
  return e;
}

/** Adds (1) or takes out (-1) a day record from every group it is in. */
function contribute(state: SiteState, d: number, c: Contribution, sign: 1 | -1): void {
  const D = state.dayPool.data, E = state.slotPool.data;
  const day = state.days.get(D[d + DR_DAY])!, who = D[d + DR_WHO], groups = day.groups;
  for (let i = 0; i <= ND; i++) day.add(groups[D[d + DR_TOTG + i]], D, d + DR_TOT, c, who, sign);
  for (let e = D[d + DR_EV]; e !== NONE; e = E[e + ER_NEXT]) day.add(groups[E[e + ER_GROUP]], E, e + ER_SLOT, c, who, sign);
}

/** A visit's contribution (reused: day.add only reads it). */
const visitC: Contribution = { counted: true, bounce: 0, duration: 0, visitPageviews: 0 };

/** Adds (1) or takes out (-1) all of a visit's day records. */
function contributeVisit(state: SiteState, v: number, sign: 1 | -1): void {
  const V = state.visitPool.data;
  visitC.bounce = V[v + VR_BOUNCE];
  visitC.duration = V[v + VR_DURATION];
  visitC.visitPageviews = V[v + VR_VPV];
  for (let d = V[v + VR_HEAD]; d !== NONE; d = state.dayPool.data[d + DR_NEXT]) contribute(state, d, visitC, sign);
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

/**
 * The marks a round may clear while events read in its snapshot wait for a later one (a digest on
 * its way): those of past hours with no event above what is applied — in the same snapshot. Such
 * an event may be another writer's late hit on a day rebuilt whole whose visit reaches a live day:
 * its mark stays so the next round reads it. The current hour's mark stays while hits arrive.
 */
function clearable(sqlite: Database.Database, marks: number[][], applied: number, now: number): number[][] {
  const current = Math.floor(now / HOUR);
  const later = prepared(sqlite, 'SELECT 1 FROM events WHERE site_id = ? AND ts >= ? AND ts < ? AND id > ? LIMIT 1');
  return marks.filter(([site, hour]) => hour !== current && later.get(site, hour * HOUR, hour * HOUR + HOUR, applied) === undefined);
}
