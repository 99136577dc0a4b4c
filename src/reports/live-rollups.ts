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
import { decodeDigest, type DecodedDigest } from '../store/batch-digest.ts';
import { HOUR_CODE, LiveDay, S_BYTES, S_ENG, S_EVENTS, S_LOAD_MS, S_LOAD_N, S_PAGEVIEWS, newSlot, type Contribution, type Group, type Slot, type VisitorDay } from './live-day.ts';

/**
 * A visit idle this long is final: its record is folded into its visitor's groups and dropped.
 * The writer forgets visits idle for an hour (checked every minute); a later event of one makes
 * its days be read again, so this only has to be right nearly always.
 */
export const FREEZE_MS = 75 * 60_000;
/** Digests waiting for a round, at most (~290 bytes per hit: ~200k hits). */
const QUEUE_BYTES = 64 * 2 ** 20;

// Event rows: only the event's own columns (the visit join and wide rows cost ~4× more per event).
const E_ID = 0, E_TS = 1, E_VID = 2, E_NAME = 3, E_BYTES = 4, E_LOAD = 5, E_ENG = 6, E_DIMS = 7;
const EVENT_DIMS = ROLLUP_DIMENSIONS.filter((d) => d.kind === 'event');
const EVENT_SQL = `SELECT e.id, e.ts, e.visit_id, e.name_id, e.bytes, e.load_ms, e.engagement_ms, ${EVENT_DIMS.map((d) => d.sql).join(', ')}
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

/** Requests outside any visit: no visit, visitor or engagement visit. */
const OUTSIDE: Contribution = { counted: false, bounce: 0, duration: 0, visitPageviews: 0 };
const NONE: Array<number | null> = VISIT_DIMS.map(() => null);

/** A visit's events of one day within one event dimension value or local hour. */
interface EvSlot {
  code: number;
  value: number | null;
  slot: Slot;
  group: Group;
}

/** One visit's events of one live day. */
class VisitDay {
  /** Its visitor on that day (null outside any visit). */
  who: VisitorDay | null = null;
  /** All of them: counted in the total and in every visit dimension's value of the visit. */
  tot: Slot = newSlot();
  totGroups: Group[];
  /** Per page, host, name, status and local hour. */
  ev: EvSlot[] = [];

  constructor(readonly day: LiveDay, dims: Array<number | null>) {
    this.totGroups = totGroups(day, dims);
  }

  /** The groups it counts its visit in (as a visit, and so for its visitor). */
  countedKeys(): number[] {
    const keys: number[] = [];
    if (this.tot[S_EVENTS] > 0) for (const g of this.totGroups) keys.push(g.key);
    for (const e of this.ev) if (e.slot[S_EVENTS] > 0) keys.push(e.group.key);
    return keys;
  }
}

/** A visit still open, with what it adds to each group (its Contribution) and its records per day. */
interface VisitState extends Contribution {
  visitor: string;
  /** The visit's value of each visit dimension (VISIT_DIMS order). */
  dims: Array<number | null>;
  endTs: number;
  start: number | null;
  /** The `events` sequence value its row is as of: an older row (a late digest) never replaces it. */
  version: number;
  /** Usually one; two or three for a visit across midnight. */
  days: VisitDay[];
}

interface SiteState {
  tz: string;
  frozeAt: number;
  days: Map<number, LiveDay>;
  visits: Map<number, VisitState>;
}

/**
 * What a round takes from the writer's digests (plan()): the digests to apply, the id ranges
 * between them that other processes wrote (read from SQLite), and how far that gets.
 */
export interface RoundPlan {
  digests: DecodedDigest[];
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
  private queue: DecodedDigest[] = [];
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
    this.queue.push(decodeDigest(buf));
  }

  /**
   * Sorts the digests received since the last round into the ones to apply and the id ranges other
   * processes wrote between them; ids after the last digest wait one round (a digest may be on its
   * way) unless they were already there at the previous round.
   */
  plan(sqlite: Database.Database): RoundPlan {
    const seq = (prepared(sqlite, "SELECT value FROM sequences WHERE name = 'events'").get() as number[] | undefined)?.[0] ?? 0;
    if (this.prevSeq < 0) this.applied = this.prevSeq = seq; // days are read whole at first
    const digests: DecodedDigest[] = [], gaps: Array<[number, number]> = [];
    let cursor = this.applied;
    for (const d of this.queue) {
      if (d.last <= cursor) continue; // read from SQLite already (it was late)
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
      bytes += s.visits.size * 700;
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
    if (!st) this.sites.set(site.id, (st = { tz: site.timezone, frozeAt: -Infinity, days: new Map(), visits: new Map() }));
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
        const rows = d.events.get(site.id);
        if (rows) events += this.apply(sqlite, state, withLocalTime(rows, tz), ids, reached, true, d.last, d.visits);
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
          const d = new LiveDay(site.id, day);
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
      v.days = v.days.filter((vd) => vd.day.day !== day);
      if (v.days.length === 0) state.visits.delete(vid);
    }
  }

  /**
   * Applies event rows, with their visits' current rows read in the same snapshot. With
   * `incremental`, rows at or below their day's sequence value are already in. Earlier days a
   * visit reaches that are not live go to `needed`.
   */
  private apply(sqlite: Database.Database, state: SiteState, rows: Row[], ids: { pageview: number; engagement: number }, needed: Set<number>,
    incremental: boolean, version: number, given?: Map<number, Row>): number {
    const byVisit = new Map<number, Row[]>();
    let n = 0;
    for (const r of rows) {
      const day = state.days.get(r[E_DAY] as number);
      if (day && incremental && (r[E_ID] as number) <= day.seq) continue;
      const vid = r[E_VID] as number;
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
    for (const [vid, list] of byVisit) {
      if (vid === 0) {
        // Requests outside any visit only add: no visit total can change under them.
        for (const r of list) {
          const vd = new VisitDay(state.days.get(r[E_DAY] as number)!, NONE);
          record(vd, r, ids);
          contribute(vd, OUTSIDE, 1);
        }
        continue;
      }
      let v = state.visits.get(vid);
      const vr = given?.get(vid) ?? read.get(vid) ?? (v ? null : NO_VISIT);
      if (v) for (const vd of v.days) contribute(vd, v, -1);
      else {
        state.visits.set(vid, (v = {
          visitor: `${vr![V_HI]}:${vr![V_LO]}`, counted: true, bounce: 0, duration: 0, visitPageviews: 0,
          dims: VISIT_DIMS.map(() => null), endTs: 0, start: null, version: -1, days: [],
        }));
      }
      if (vr && version > v.version) {
        v.version = version;
        const start = vr[V_START] as number | null, end = vr[V_END] as number;
        v.bounce = (vr[V_BOUNCE] as number) ?? 0;
        v.duration = start === null ? 0 : end - start;
        v.visitPageviews = (vr[V_PV] as number) ?? 0;
        v.endTs = end;
        v.start = start;
        let moved = false;
        for (let i = 0; i < VISIT_DIMS.length; i++) {
          const x = vr[V_DIMS + i] as number | null;
          if (x !== v.dims[i]) { v.dims[i] = x; moved = true; }
        }
        // The exit page changed: the visit's records move to the groups of its new value.
        if (moved) for (const vd of v.days) vd.totGroups = totGroups(vd.day, v.dims);
      }
      const start = v.start;
      for (const r of list) {
        const dayNo = r[E_DAY] as number;
        let vd = v.days.find((x) => x.day.day === dayNo);
        if (!vd) {
          const created = new VisitDay(state.days.get(dayNo)!, v.dims);
          created.who = created.day.visitor(v.visitor, created);
          v.days.push((vd = created));
          created.day.openVisits++;
        }
        record(vd, r, ids);
      }
      for (const vd of v.days) contribute(vd, v, 1);
      // A visit that began on a day not held: that day's totals for it change too.
      const lastDay = list.length ? (list[list.length - 1][E_DAY] as number) : -Infinity;
      if (start !== null && list.length && start < dayStart(lastDay, state.tz)) {
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
      if (v.endTs >= now - FREEZE_MS) continue;
      for (const vd of v.days) {
        vd.day.freeze(vd.who!, vd.countedKeys());
        vd.day.frozenVisits.add(vid);
        vd.day.openVisits--;
      }
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
  if (start === undefined || end === undefined) {
    start = end = rows[0][E_TS] as number;
    for (const r of rows) {
      const ts = r[E_TS] as number;
      if (ts < start) start = ts;
      if (ts >= end) end = ts + 1;
    }
  }
  const segs = offsetSegments(start, end, tz);
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

function totGroups(day: LiveDay, dims: Array<number | null>): Group[] {
  const out = [day.group(0, null)];
  for (let i = 0; i < VISIT_DIMS.length; i++) out.push(day.group(VISIT_DIMS[i], dims[i]));
  return out;
}

/** Adds one event row to a visit's slots of its day. */
function record(vd: VisitDay, r: Row, ids: { pageview: number; engagement: number }): void {
  const name = r[E_NAME] as number;
  const eng = name === ids.engagement;
  const pv = name === ids.pageview;
  const addTo = (s: Slot) => {
    if (eng) {
      s[S_ENG] = (s[S_ENG] < 0 ? 0 : s[S_ENG]) + ((r[E_ENG] as number) ?? 0);
      return;
    }
    s[S_EVENTS]++;
    s[S_BYTES] += (r[E_BYTES] as number) ?? 0;
    if (pv) {
      s[S_PAGEVIEWS]++;
      if (r[E_LOAD] !== null) { s[S_LOAD_MS] += r[E_LOAD] as number; s[S_LOAD_N]++; }
    }
  };
  addTo(vd.tot);
  for (let i = 0; i < EVENT_DIMS.length; i++) addTo(slotOf(vd, EVENT_DIMS[i].code!, r[E_DIMS + i] as number | null));
  addTo(slotOf(vd, HOUR_CODE, r[E_HOUR] as number));
}

function slotOf(vd: VisitDay, code: number, value: number | null): Slot {
  for (const e of vd.ev) if (e.code === code && e.value === value) return e.slot;
  const e = { code, value, slot: newSlot(), group: vd.day.group(code, value) };
  vd.ev.push(e);
  return e.slot;
}

/** Adds (1) or takes out (-1) a visit's day from every group it is in. */
function contribute(vd: VisitDay, c: Contribution, sign: 1 | -1): void {
  const day = vd.day, who = vd.who;
  for (const g of vd.totGroups) day.add(g, vd.tot, c, who, sign);
  for (const e of vd.ev) day.add(e.group, e.slot, c, who, sign);
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
