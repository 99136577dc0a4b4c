// One local day of a site's rollups kept in memory and maintained by deltas (live-rollups.ts
// feeds it). It holds the same twelve base sums per group that rebuildDay() computes from a full
// read — the total (dim 0), every rolled-up dimension value and every local hour — and writes
// only the groups that changed since the last flush, each by its rowid.
//
// Distinct visitors per group are exact: a visitor counts in a group while one of their open
// visits does, or once one of their closed visits did (VisitorDay).
import type Database from 'better-sqlite3';
import { BASE } from './metrics.ts';
import { ROLLUP_DIMENSIONS } from './dimensions.ts';
import { dimensionText } from './string-ids.ts';
import { noteRebuilt } from './segment-cache.ts';

/** Group keys: code × 2^36 + (value + 1), value null → 0. Codes 1–22 are dimensions, 0 the total. */
const K = 2 ** 36;
export const HOUR_CODE = 31;
export const groupKey = (code: number, value: number | null): number => code * K + (value === null ? 0 : value + 1);
const codeOf = (key: number) => Math.floor(key / K);
const valueOf = (key: number): number | null => {
  const v = key % K;
  return v === 0 ? null : v - 1;
};

// Positions in a group's sums (BASE order) and in a slot.
const VISITORS = 0, VISITS = 1, PAGEVIEWS = 2, EVENTS = 3, BOUNCES = 4, DURATION = 5, VPV = 6, BYTES = 7, LOAD_MS = 8, LOAD_N = 9, ENG_MS = 10, ENG_VISITS = 11;
/** A slot: one visit's events of one day within one group. */
export const S_EVENTS = 0, S_PAGEVIEWS = 1, S_ENG = 2, S_BYTES = 3, S_LOAD_MS = 4, S_LOAD_N = 5;
/** Plain arrays, not typed ones: a visit makes several and V8 allocates these far faster. */
export type Slot = number[];
export const newSlot = (): Slot => [0, 0, -1, 0, 0, 0];

/** One row of the rollups: its key, sums, where it was written and whether it changed since. */
export interface Group {
  key: number;
  sums: number[];
  rowid: number;
  dirty: boolean;
}

/** What a visit adds to each group its events of the day are in. */
export interface Contribution {
  /** False for requests outside any visit (visit id 0): no visit, visitor or engagement visit. */
  counted: boolean;
  bounce: number;
  duration: number;
  visitPageviews: number;
}

/**
 * A visitor on one day. While they have a single visit there (nearly everyone), they count in
 * exactly the groups that visit counts in, so no set is kept; from a second visit on, `open`
 * counts their open visits per group and `frozen` lists the groups of their closed ones.
 */
export interface VisitorDay {
  visits: number;
  /** Their first visit's record, asked for the groups it counts in when a second one comes. */
  first: { countedKeys(): number[] } | null;
  frozen: Float64Array | null;
  open: Map<number, number> | null;
}

const BY_CODE = new Map(ROLLUP_DIMENSIONS.map((d) => [d.code!, d]));
const COLS = BASE.join(', ');
const SET = BASE.map((b) => `${b} = ?`).join(', ');

function has(sorted: Float64Array | null, key: number): boolean {
  if (!sorted) return false;
  let lo = 0, hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid];
    if (v === key) return true;
    if (v < key) lo = mid + 1; else hi = mid - 1;
  }
  return false;
}

function union(a: Float64Array | null, keys: number[]): Float64Array {
  const all = a ? [...a, ...keys] : keys;
  return Float64Array.from(new Set(all)).sort();
}

export class LiveDay {
  /** Per dimension code, per value (null as -1): small-integer keys, no boxed numbers to hash. */
  private readonly byCode: Array<Map<number, Group> | undefined> = [];
  private size = 0;
  private dirty: Group[] = [];
  private readonly visitors = new Map<string, VisitorDay>();
  /** Visits whose records were dropped: a later event of one means this day must be read again. */
  readonly frozenVisits = new Set<number>();
  /** Open visit records on this day (the day retires when none is left and it is not today). */
  openVisits = 0;
  /** Events with ids up to this are in the state (the `events` sequence when the day was read). */
  seq = 0;
  /** Set when the table no longer matches what this day wrote: it is read again. */
  stale = false;
  private fresh = true;

  constructor(readonly siteId: number, readonly day: number) {}

  /** The group of a dimension value (created empty). Visit records keep it, so a change costs no look-up. */
  group(code: number, value: number | null): Group {
    const m = (this.byCode[code] ??= new Map());
    const k = value ?? -1;
    let g = m.get(k);
    if (!g) {
      m.set(k, (g = { key: groupKey(code, value), sums: new Array(BASE.length).fill(0), rowid: -1, dirty: false }));
      this.size++;
    }
    return g;
  }

  /**
   * The visitor state of a new visit record on this day: a visitor's first record is asked for the
   * groups it counts in when a second one arrives.
   */
  visitor(visitor: string, record: { countedKeys(): number[] }): VisitorDay {
    let v = this.visitors.get(visitor);
    if (!v) {
      this.visitors.set(visitor, (v = { visits: 1, first: record, frozen: null, open: null }));
      return v;
    }
    if (v.visits++ === 1 && v.first) {
      // From one visit to two: the first one's groups become counts.
      v.open = new Map();
      for (const k of v.first.countedKeys()) v.open.set(k, 1);
    }
    v.first = null;
    v.open ??= new Map();
    return v;
  }

  /** Adds (sign 1) or removes (-1) one slot of a visit's events from group `g`. */
  add(g: Group, s: Slot, c: Contribution, who: VisitorDay | null, sign: 1 | -1): void {
    const x = g.sums;
    if (!g.dirty) {
      g.dirty = true;
      this.dirty.push(g);
    }
    x[EVENTS] += sign * s[S_EVENTS];
    x[PAGEVIEWS] += sign * s[S_PAGEVIEWS];
    x[BYTES] += sign * s[S_BYTES];
    x[LOAD_MS] += sign * s[S_LOAD_MS];
    x[LOAD_N] += sign * s[S_LOAD_N];
    if (s[S_ENG] >= 0) {
      x[ENG_MS] += sign * s[S_ENG];
      if (c.counted) x[ENG_VISITS] += sign;
    }
    if (s[S_EVENTS] > 0 && c.counted) {
      x[VISITS] += sign;
      x[BOUNCES] += sign * c.bounce;
      x[DURATION] += sign * c.duration;
      x[VPV] += sign * c.visitPageviews;
      if (who!.open === null) x[VISITORS] += sign; // their only visit: it decides alone
      else this.presence(who!, g.key, x, sign);
    }
  }

  private presence(v: VisitorDay, key: number, x: number[], sign: 1 | -1): void {
    if (has(v.frozen, key)) return;
    const open = v.open!;
    const before = open.get(key) ?? 0;
    const after = before + sign;
    if (after === 0) open.delete(key); else open.set(key, after);
    if (before === 0 && after > 0) x[VISITORS]++;
    else if (before > 0 && after === 0) x[VISITORS]--;
  }

  /** A closed visit's groups stay counted for its visitor without its record (`keys`: where it counted). */
  freeze(v: VisitorDay, keys: number[]): void {
    if (v.first) {
      // Their only visit so far: its groups are the visitor's.
      v.first = null;
      v.open = new Map();
    } else {
      for (const k of keys) {
        const n = (v.open!.get(k) ?? 0) - 1;
        if (n <= 0) v.open!.delete(k); else v.open!.set(k, n);
      }
    }
    if (keys.length) v.frozen = union(v.frozen, keys);
  }

  /** Approximate bytes held (for the note on memory and the cache statistics). */
  get bytes(): number {
    let n = this.size * 220 + this.frozenVisits.size * 16;
    for (const v of this.visitors.values()) n += 120 + (v.frozen?.byteLength ?? 0) + (v.open?.size ?? 0) * 40;
    return n;
  }

  /**
   * Writes the groups that changed (all of them after a fresh read, replacing the day's rows) and
   * marks the day built. Run inside the caller's write transaction. A row that is no longer where
   * this day put it (the site's rollups were deleted meanwhile) makes the day stale.
   */
  flush(sqlite: Database.Database, now: number): void {
    if (this.fresh) {
      sqlite.prepare('DELETE FROM daily_stats WHERE site_id = ? AND day = ?').run(this.siteId, this.day);
      sqlite.prepare('DELETE FROM hourly_stats WHERE site_id = ? AND hour >= ? AND hour < ?').run(this.siteId, this.day * 24, this.day * 24 + 24);
      this.fresh = false;
    }
    if (this.dirty.length === 0 && !this.stale) return;
    const st = statements(sqlite);
    for (const g of this.dirty) {
      g.dirty = false;
      const x = g.sums, code = codeOf(g.key);
      if (code === HOUR_CODE) {
        if (x[EVENTS] > 0) st.upsertHour.run(this.siteId, valueOf(g.key), ...x);
        else st.deleteHour.run(this.siteId, valueOf(g.key));
      } else if (x[EVENTS] > 0) {
        if (g.rowid < 0) {
          const value = code === 0 ? null : dimensionText(sqlite, BY_CODE.get(code)!, valueOf(g.key));
          g.rowid = Number(st.insertDaily.run(this.siteId, this.day, code, value, ...x).lastInsertRowid);
        } else if (st.updateDaily.run(...x, g.rowid, this.siteId, this.day, code).changes !== 1) {
          this.stale = true;
        }
      } else if (g.rowid >= 0) {
        st.deleteDaily.run(g.rowid, this.siteId, this.day, code);
        g.rowid = -1;
      }
    }
    this.dirty = [];
    st.built.run(this.siteId, this.day, now);
    noteRebuilt(this.siteId, this.day);
  }
}

interface Statements {
  insertDaily: Database.Statement;
  updateDaily: Database.Statement;
  deleteDaily: Database.Statement;
  upsertHour: Database.Statement;
  deleteHour: Database.Statement;
  built: Database.Statement;
}
const cache = new WeakMap<Database.Database, Statements>();

function statements(sqlite: Database.Database): Statements {
  let st = cache.get(sqlite);
  if (!st) {
    const ph = BASE.map(() => '?').join(', ');
    st = {
      insertDaily: sqlite.prepare(`INSERT INTO daily_stats (site_id, day, dim, value, ${COLS}) VALUES (?, ?, ?, ?, ${ph})`),
      // The site, day and dim are checked too: a rowid freed by a deletion may be reused by a row of another day.
      updateDaily: sqlite.prepare(`UPDATE daily_stats SET ${SET} WHERE rowid = ? AND site_id = ? AND day = ? AND dim = ?`),
      deleteDaily: sqlite.prepare('DELETE FROM daily_stats WHERE rowid = ? AND site_id = ? AND day = ? AND dim = ?'),
      upsertHour: sqlite.prepare(`INSERT INTO hourly_stats (site_id, hour, ${COLS}) VALUES (?, ?, ${ph})
        ON CONFLICT (site_id, hour) DO UPDATE SET ${BASE.map((b) => `${b} = excluded.${b}`).join(', ')}`),
      deleteHour: sqlite.prepare('DELETE FROM hourly_stats WHERE site_id = ? AND hour = ?'),
      built: sqlite.prepare('INSERT INTO rollup_days (site_id, day, built_at) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET built_at = excluded.built_at'),
    };
    cache.set(sqlite, st);
  }
  return st;
}
