// One local day of a site's rollups kept in memory and maintained by deltas (live-rollups.ts
// feeds it). It holds the same twelve base sums per group that rebuildDay() computes from a full
// read — the total (dim 0), every rolled-up dimension value and every local hour — and writes
// only the groups that changed since the last flush, each by its rowid. Page rows also carry
// scroll depth's two sums (rollups.ts states what they hold).
//
// Distinct visitors per group are exact: a visitor counts in a group while one of their open
// visits does, or once one of their closed visits did. Visitors live in typed columns with an
// open-addressing table over the 64-bit visitor id, not in objects: a busy day holds hundreds of
// thousands of them for hours, and as objects (a key string, a record, a Map, an array each) they
// were what the garbage collector spent its time on — with the visit records, ~13 µs of the
// ~22 µs per hit that live rollups cost the ingestion bench (per thread, /proc, 50 connections).
import type Database from 'better-sqlite3';
import { BASE } from './metrics.ts';
import { ROLLUP_DIMENSIONS } from './dimensions.ts';
import { dimensionText } from './string-ids.ts';
import { noteRebuilt } from './segment-cache.ts';
import { SCROLL_DIM } from './rollups.ts';

/** Group keys: code × 2^36 + (value + 1), value null → 0. Codes 1–22 are dimensions, 0 the total. */
const K = 2 ** 36;
export const HOUR_CODE = 31;
export const groupKey = (code: number, value: number | null): number => code * K + (value === null ? 0 : value + 1);
const codeOf = (key: number) => Math.floor(key / K);
const valueOf = (key: number): number | null => {
  const v = key % K;
  return v === 0 ? null : v - 1;
};

// Positions in a group's sums (BASE order).
const VISITORS = 0, VISITS = 1, PAGEVIEWS = 2, EVENTS = 3, BOUNCES = 4, DURATION = 5, VPV = 6, BYTES = 7, LOAD_MS = 8, LOAD_N = 9, ENG_MS = 10, ENG_VISITS = 11;
/** A slot: one visit's events of one day within one group, SLOT numbers in a Float64Array. */
export const S_EVENTS = 0, S_PAGEVIEWS = 1, S_ENG = 2, S_BYTES = 3, S_LOAD_MS = 4, S_LOAD_N = 5, S_SCROLL = 6, SLOT = 7;
/** An empty slot's values (engagement and deepest scroll -1: none yet). */
export const EMPTY_SLOT = [0, 0, -1, 0, 0, 0, -1];

/** One row of the rollups: its key, sums, where it was written and whether it changed since. */
export interface Group {
  /** Its place in the day's `groups` (visit records and visitors refer to groups by it). */
  idx: number;
  key: number;
  sums: number[];
  rowid: number;
  dirty: boolean;
  /** Page rows only (SCROLL_DIM): scroll depth's sums, and the deepest scroll of requests outside any visit (-1 none). */
  scroll: { sum: number; n: number; outside: number } | null;
}

/** What a visit adds to each group its events of the day are in. */
export interface Contribution {
  /** False for requests outside any visit (visit id 0): no visit, visitor or engagement visit. */
  counted: boolean;
  bounce: number;
  duration: number;
  visitPageviews: number;
}

/** Asked for the groups (indices) a visit's record of this day counts in, when its visitor returns. */
export type CountedGroups = (record: number) => number[];

/** Visitor columns: id halves, visits on the day, their first visit's record (-1 once it closed). */
const NO_RECORD = -1;

/**
 * The visitors of one day. While a visitor has a single visit there (nearly everyone), they count
 * in exactly the groups that visit counts in, so nothing more is kept; from a second visit on,
 * `open` counts their open visits per group, and the groups of their closed visits are a sorted
 * run in `frozen` (kept per visitor: a visitor who returns later that day must not count twice).
 */
class Visitors {
  hi = new Uint32Array(1024);
  lo = new Uint32Array(1024);
  visits = new Int32Array(1024);
  first = new Int32Array(1024);
  frozenAt = new Int32Array(1024);
  frozenLen = new Int32Array(1024);
  count = 0;
  /** Open addressing over the id: visitor index + 1, 0 empty. Kept at most half full. */
  private table = new Int32Array(2048);
  /** Group indices of closed visits, sorted runs (one per visitor that has any). */
  frozen = new Int32Array(4096);
  frozenUsed = 0;
  /** Per visitor with a second visit: open visits per group index. */
  readonly open = new Map<number, Map<number, number>>();

  /** The visitor's index (added when new). `hi` may be negative (ids are signed 64-bit): compared as stored, unsigned. */
  find(hi: number, lo: number): number {
    hi >>>= 0;
    lo >>>= 0;
    const mask = this.table.length - 1;
    for (let h = hash(hi, lo) & mask; ; h = (h + 1) & mask) {
      const at = this.table[h];
      if (at === 0) {
        const i = this.add(hi, lo);
        if (this.count * 2 > this.table.length) this.rehash();
        else this.table[h] = i + 1;
        return i;
      }
      if (this.hi[at - 1] === hi && this.lo[at - 1] === lo) return at - 1;
    }
  }

  private add(hi: number, lo: number): number {
    const i = this.count++;
    if (i === this.hi.length) {
      this.hi = grow(this.hi);
      this.lo = grow(this.lo);
      this.visits = grow(this.visits);
      this.first = grow(this.first);
      this.frozenAt = grow(this.frozenAt);
      this.frozenLen = grow(this.frozenLen);
    }
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.visits[i] = 0;
    this.first[i] = NO_RECORD;
    this.frozenLen[i] = 0;
    return i;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2), mask = table.length - 1;
    for (let i = 0; i < this.count; i++) {
      let h = hash(this.hi[i], this.lo[i]) & mask;
      while (table[h] !== 0) h = (h + 1) & mask;
      table[h] = i + 1;
    }
    this.table = table;
  }

  /** Whether group `g` is among the visitor's closed visits' groups. */
  isFrozen(v: number, g: number): boolean {
    let lo = this.frozenAt[v], hi = lo + this.frozenLen[v] - 1;
    const f = this.frozen;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (f[mid] === g) return true;
      if (f[mid] < g) lo = mid + 1; else hi = mid - 1;
    }
    return false;
  }

  /** Adds `groups` to the visitor's closed groups (a new sorted run; the old one is left unused). */
  freezeGroups(v: number, groups: number[]): void {
    if (!groups.length) return;
    const all = new Set(groups);
    for (let i = 0; i < this.frozenLen[v]; i++) all.add(this.frozen[this.frozenAt[v] + i]);
    const run = Int32Array.from(all).sort();
    while (this.frozenUsed + run.length > this.frozen.length) this.frozen = grow(this.frozen);
    this.frozen.set(run, this.frozenUsed);
    this.frozenAt[v] = this.frozenUsed;
    this.frozenLen[v] = run.length;
    this.frozenUsed += run.length;
  }

  get bytes(): number {
    return this.hi.length * 24 + this.table.byteLength + this.frozen.byteLength + this.open.size * 200;
  }
}

/** Mixes the id's halves (they are already a keyed hash: any bits would do, these spread well). */
const hash = (hi: number, lo: number) => Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0;

function grow<T extends Int32Array | Uint32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

const BY_CODE = new Map(ROLLUP_DIMENSIONS.map((d) => [d.code!, d]));
const COLS = BASE.join(', ');
const SET = BASE.map((b) => `${b} = ?`).join(', ');

export class LiveDay {
  /** Every group, by index. */
  readonly groups: Group[] = [];
  /** Per dimension code, per value (null as -1): small-integer keys, no boxed numbers to hash. */
  private readonly byCode: Array<Map<number, Group> | undefined> = [];
  private dirty: Group[] = [];
  private readonly visitors = new Visitors();
  /** Visits whose records were dropped: a later event of one means this day must be read again. */
  readonly frozenVisits = new Set<number>();
  /** The largest id in frozenVisits (-1 none): visit ids grow, so newer visits skip the lookup. */
  maxFrozenVisit = -1;
  /** Open visit records on this day (the day retires when none is left and it is not today). */
  openVisits = 0;
  /** Events with ids up to this are in the state (the `events` sequence when the day was read). */
  seq = 0;
  /** Set when the table no longer matches what this day wrote: it is read again. */
  stale = false;
  private fresh = true;

  constructor(readonly siteId: number, readonly day: number, private readonly counted: CountedGroups) {}

  /** The group of a dimension value (created empty). */
  group(code: number, value: number | null): Group {
    const m = (this.byCode[code] ??= new Map());
    const k = value ?? -1;
    let g = m.get(k);
    if (!g) {
      g = {
        idx: this.groups.length, key: groupKey(code, value), sums: new Array(BASE.length).fill(0), rowid: -1, dirty: false,
        scroll: code === SCROLL_DIM ? { sum: 0, n: 0, outside: -1 } : null,
      };
      m.set(k, g);
      this.groups.push(g);
    }
    return g;
  }

  /**
   * The visitor of a new visit record on this day (`record`, asked for the groups it counts in
   * when a second visit of the same visitor arrives).
   */
  visitor(hi: number, lo: number, record: number): number {
    const vs = this.visitors, v = vs.find(hi, lo);
    const n = vs.visits[v]++;
    if (n === 0) {
      vs.first[v] = record;
      return v;
    }
    let open = vs.open.get(v);
    if (!open) vs.open.set(v, (open = new Map()));
    if (vs.first[v] !== NO_RECORD) {
      // From one open visit to two: the first one's groups become counts.
      for (const g of this.counted(vs.first[v])) open.set(g, 1);
      vs.first[v] = NO_RECORD;
    }
    return v;
  }

  /** Adds (sign 1) or removes (-1) one slot (`s` at `at`) of a visit's events from group `g`. */
  add(g: Group, s: Float64Array, at: number, c: Contribution, who: number, sign: 1 | -1): void {
    const x = g.sums;
    if (!g.dirty) {
      g.dirty = true;
      this.dirty.push(g);
    }
    const events = s[at + S_EVENTS];
    x[EVENTS] += sign * events;
    x[PAGEVIEWS] += sign * s[at + S_PAGEVIEWS];
    x[BYTES] += sign * s[at + S_BYTES];
    x[LOAD_MS] += sign * s[at + S_LOAD_MS];
    x[LOAD_N] += sign * s[at + S_LOAD_N];
    const eng = s[at + S_ENG];
    if (eng >= 0) {
      x[ENG_MS] += sign * eng;
      if (c.counted) x[ENG_VISITS] += sign;
    }
    if (g.scroll !== null && s[at + S_SCROLL] >= 0) this.scroll(g.scroll, s[at + S_SCROLL], c.counted, sign);
    if (events > 0 && c.counted) {
      x[VISITS] += sign;
      x[BOUNCES] += sign * c.bounce;
      x[DURATION] += sign * c.duration;
      x[VPV] += sign * c.visitPageviews;
      // Most days have no visitor with a second open visit: then no lookup (24 a new visit).
      const opens = this.visitors.open, open = opens.size === 0 ? undefined : opens.get(who);
      if (open === undefined) x[VISITORS] += sign; // their only visit: it decides alone
      else this.presence(who, open, g.idx, x, sign);
    }
  }

  /**
   * A visit's deepest scroll on a page row (rollups.ts states the rule: a sum of per-visit maxima
   * and their count). Requests outside any visit are one "visit" per row, as SQL's GROUP BY
   * visit_id makes them: only their deepest scroll counts (they are only ever added).
   */
  private scroll(sc: { sum: number; n: number; outside: number }, depth: number, counted: boolean, sign: 1 | -1): void {
    if (counted) {
      sc.sum += sign * depth;
      sc.n += sign;
    } else if (depth > sc.outside) {
      if (sc.outside < 0) sc.n++;
      sc.sum += depth - Math.max(sc.outside, 0);
      sc.outside = depth;
    }
  }

  private presence(v: number, open: Map<number, number>, g: number, x: number[], sign: 1 | -1): void {
    if (this.visitors.isFrozen(v, g)) return;
    const before = open.get(g) ?? 0;
    const after = before + sign;
    if (after === 0) open.delete(g); else open.set(g, after);
    if (before === 0 && after > 0) x[VISITORS]++;
    else if (before > 0 && after === 0) x[VISITORS]--;
  }

  /** A closed visit's groups (`groups`: where it counted) stay counted for its visitor without its record. */
  freeze(v: number, groups: number[]): void {
    const vs = this.visitors, open = vs.open.get(v);
    if (vs.first[v] !== NO_RECORD) {
      // Their only open visit: its groups are the visitor's. A later visit finds them frozen.
      vs.first[v] = NO_RECORD;
    } else if (open) {
      for (const g of groups) {
        const n = (open.get(g) ?? 0) - 1;
        if (n <= 0) open.delete(g); else open.set(g, n);
      }
    }
    vs.freezeGroups(v, groups);
  }

  /** Approximate bytes held (for the note on memory and the cache statistics). */
  get bytes(): number {
    return this.groups.length * 220 + this.frozenVisits.size * 16 + this.visitors.bytes;
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
        const sc = g.scroll;
        if (g.rowid < 0) {
          const value = code === 0 ? null : dimensionText(sqlite, BY_CODE.get(code)!, valueOf(g.key));
          const ins = sc ? st.insertPage.run(this.siteId, this.day, code, value, ...x, sc.sum, sc.n) : st.insertDaily.run(this.siteId, this.day, code, value, ...x);
          g.rowid = Number(ins.lastInsertRowid);
        } else if ((sc ? st.updatePage.run(...x, sc.sum, sc.n, g.rowid, this.siteId, this.day, code) : st.updateDaily.run(...x, g.rowid, this.siteId, this.day, code)).changes !== 1) {
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
  insertPage: Database.Statement;
  updatePage: Database.Statement;
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
      insertPage: sqlite.prepare(`INSERT INTO daily_stats (site_id, day, dim, value, ${COLS}, scroll_sum, scroll_n) VALUES (?, ?, ?, ?, ${ph}, ?, ?)`),
      updatePage: sqlite.prepare(`UPDATE daily_stats SET ${SET}, scroll_sum = ?, scroll_n = ? WHERE rowid = ? AND site_id = ? AND day = ? AND dim = ?`),
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
