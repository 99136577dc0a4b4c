// Columnar day segments: one local day of one site's events, and the visits they belong to, held
// in typed arrays so a filtered report reads memory instead of the b-tree. The raw SQL path pays
// ~1.45 µs per scanned event (index → row → visit join → filter) on every query; a segment is
// read once (two statements: the day's events as JSON arrays, ~1.8 µs/event on a loaded 2-core
// box, then its visits by id) and then scanned at a few ns per event.
//
// Every text column is stored as codes into a small per-segment dictionary (the global string
// ids of the values the day holds), so a filter clause becomes a mask over a few hundred codes
// and a breakdown counts into dense arrays indexed by code. Events are ordered by visitor, then
// visit, then time: all events of a visit (and all visits of a visitor) are adjacent, which lets
// the aggregation count distinct visits and visitors with one "last seen" stamp per group
// instead of per-visit Maps. Sizes: ~46 bytes per event plus ~62 per visit (see bytesOf).
// Scroll depth is one byte per event (0–100 as stored, NO_SCROLL for none), so the Pages panel's
// scroll_depth is counted here too, with the same per-visit maxima as raw-source.ts's SQL.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import { ROLLUP_DIMENSIONS, VISIT_JOINS, type Dimension } from './dimensions.ts';
import { prepared } from './raw-source.ts';
import { nameIds } from './string-ids.ts';
import { HOUR, offsetSegments } from './time-zone.ts';
import { sumVisits, visitSumsBytes, type VisitSums } from './visit-sums.ts';

/** Stored in place of NULL in the integer columns where NULL counts differently from 0. */
export const NULL_INT = -2147483648;

/**
 * Codes (one per row) into `values`: global string ids, numbers (status) or null. Always a
 * Uint16Array (one array type keeps the aggregation loop monomorphic: mixing types cost a
 * 3× slowdown in deoptimisations); a day with more than 65,536 values of one column (pages of
 * a huge site) is not kept as a segment and reads raw events instead.
 */
export interface Dict {
  values: Array<number | null>;
  codes: Uint16Array;
}

/** Thrown by buildSegment when a column of the day has more values than a Dict holds. */
export class TooManyValues extends Error {}
/**
 * Thrown by buildSegment for a value its one-byte scroll column cannot hold (not a whole number
 * 0–254; the collector stores 0–100 only): the day is read from events like a too-wide one.
 */
export class UnheldValue extends TooManyValues {}

/** In Segment.scroll: the event carries no scroll depth. */
export const NO_SCROLL = 255;

/** The visit dimensions, each read from `visits v` with its own SQL (source maps NULL to 0). */
export const VISIT_DIMS: Dimension[] = ROLLUP_DIMENSIONS.filter((d) => d.kind === 'visit');
/** Event columns a segment keeps as dictionaries, by dimension name. */
export const EVENT_COLS = { 'event:page': 'page', 'event:hostname': 'host', 'event:name': 'name', 'event:status': 'status' } as const;
export type EventCol = (typeof EVENT_COLS)[keyof typeof EVENT_COLS];

export interface Segment {
  siteId: number;
  tz: string;
  day: number;
  /** [start, end) of the local day, ms. */
  start: number;
  end: number;
  /** Events, in (visitor, visit, ts) order. */
  n: number;
  /** ms after `start`. */
  ts: Int32Array;
  /** Local hour within the day, 0–23 (the repeated hour of a 25-hour day is one hour, as in SQL). */
  hour: Uint8Array;
  /** Index into the visit columns. */
  visit: Int32Array;
  page: Dict;
  host: Dict;
  name: Dict;
  status: Dict;
  /** NULL read as 0 (sums ignore NULL). */
  bytes: Float64Array;
  /** NULL_INT for NULL: load times and engagement count only where present. */
  load: Int32Array;
  eng: Int32Array;
  /** Scroll depth (percent) of engagement reports, NO_SCROLL where NULL. */
  scroll: Uint8Array;
  /** Visits, including a pseudo-visit for visit_id 0 and any visit whose row is gone. */
  m: number;
  /** 1 when visit_id ≠ 0 (counts as a visit). */
  real: Uint8Array;
  /** Dense visitor index within the day, -1 when there is no visit row (not a visitor). */
  visitor: Int32Array;
  bounce: Uint8Array;
  dur: Float64Array;
  vpv: Int32Array;
  /** Visit dimensions by name, codes per visit. */
  attrs: Map<string, Dict>;
  /** The latest end of its visits: a write up to 30 min after it may still change them. */
  reach: number;
  /** Cached filter results: event positions that pass, by filter key. */
  matches: Map<string, Int32Array>;
  /** Cached sums without dimensions (per day or hour), by filter key (at most 16, ≤ 2.3 KB each). */
  totals: Map<string, Float64Array[]>;
  /** Where each visit's events start (events are grouped by visit): visit v has [visitStart[v], visitStart[v + 1]). */
  visitStart: Int32Array;
  /** Every event summed per visit (visit-sums.ts), 43 bytes per visit. */
  own: VisitSums;
  /** The last filter's sums per visit (segment-aggregate.ts), 43 bytes per visit it touched. */
  visitSums: { key: string; sums: VisitSums; bytes: number } | null;
  /** Memory held, bytes (arrays; matches added as cached). */
  size: number;
}

function dict(raw: Array<number | null>, order: Int32Array | null): Dict {
  const index = new Map<number | null, number>();
  const values: Array<number | null> = [];
  const n = raw.length;
  const tmp = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const v = raw[order ? order[i] : i];
    let c = index.get(v);
    if (c === undefined) {
      index.set(v, (c = values.length));
      values.push(v);
      if (c >= 65536) throw new TooManyValues();
    }
    tmp[i] = c;
  }
  return { values, codes: tmp };
}

const EVENTS_SQL = `SELECT json_group_array(ts - ?), json_group_array(visit_id), json_group_array(name_id), json_group_array(host_id),
  json_group_array(page_id), json_group_array(bytes), json_group_array(status), json_group_array(load_ms), json_group_array(engagement_ms), count(*),
  json_group_array(scroll_depth)
  FROM events WHERE site_id = ? AND ts >= ? AND ts < ?`;
// Visits by id from a sorted JSON list: a rowid seek each (3.5× faster than `id IN (…)`), rows
// as one JSON text (2.4 µs per visit as row arrays, 1.2 µs as JSON, on the 1M bench).
const VISITS_SQL = `SELECT json_group_array(json_array(v.id, v.visitor_id >> 32, v.visitor_id & 4294967295, v.bounce, v.end_ts - v.start_ts,
  v.pageviews, v.end_ts, ${VISIT_DIMS.map((d) => d.sql).join(', ')}))
  FROM json_each(?) j JOIN visits v ON v.id = j.value ${VISIT_JOINS}`;
const V_FIXED = 7;

/** Reads local day `day` ([start, end) in ms) of a site into a segment. */
export function buildSegment(sqlite: SqlConnection, siteId: number, tz: string, day: number, start: number, end: number): Segment {
  const row = prepared(sqlite, EVENTS_SQL).get(start, siteId, start, end) as [string, string, string, string, string, string, string, string, string, number, string];
  const n = row[9];
  const col = (i: number) => (n ? JSON.parse(row[i] as string) : []) as Array<number | null>;
  const ts = col(0), vids = col(1) as number[];

  // Visits: distinct ids, read by id; then ordered by visitor so the aggregation can stamp.
  const ids = [...new Set(vids)].filter((v) => v !== 0).sort((a, b) => a - b);
  const rows = ids.length ? JSON.parse((prepared(sqlite, VISITS_SQL).get(JSON.stringify(ids)) as [string])[0]) as unknown[][] : [];
  const byId = new Map<number, unknown[]>();
  for (const r of rows) byId.set(r[0] as number, r);
  // Ordered by the 64-bit visitor id (two exact 32-bit halves), so a visitor's visits are
  // adjacent and get one dense index: no per-visitor Map or string keys.
  interface V { id: number; hi: number; lo: number; visitor: number; row: unknown[] | undefined }
  const vs: V[] = [];
  if (vids.includes(0)) vs.push({ id: 0, hi: -Infinity, lo: 0, visitor: -1, row: undefined });
  for (const id of ids) {
    const r = byId.get(id);
    // A visit whose row is gone has no visitor (SQL counts its NULL id as none).
    vs.push({ id, hi: r ? (r[1] as number) : -Infinity, lo: r ? (r[2] as number) : 0, visitor: -1, row: r });
  }
  vs.sort((a, b) => a.hi - b.hi || a.lo - b.lo || a.id - b.id);
  let visitors = 0;
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i];
    if (!v.row) continue;
    const prev = i > 0 ? vs[i - 1] : undefined;
    v.visitor = prev?.row && prev.hi === v.hi && prev.lo === v.lo ? prev.visitor : visitors++;
  }
  const m = vs.length;
  const rank = new Map<number, number>();
  vs.forEach((v, i) => rank.set(v.id, i));

  // Events ordered by visit rank (a counting sort keeps time order within a visit).
  const vOf = new Int32Array(n);
  const counts = new Int32Array(m + 1);
  for (let i = 0; i < n; i++) counts[(vOf[i] = rank.get(vids[i])!) + 1]++;
  for (let v = 0; v < m; v++) counts[v + 1] += counts[v];
  const visitStart = counts.slice();
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[counts[vOf[i]]++] = i;

  const tsA = new Int32Array(n), hour = new Uint8Array(n), visit = new Int32Array(n);
  const bytes = new Float64Array(n), load = new Int32Array(n), eng = new Int32Array(n), scroll = new Uint8Array(n);
  const bytesRaw = col(5), loadRaw = col(7), engRaw = col(8), scrollRaw = col(10);
  const segs = offsetSegments(start, end, tz);
  const base = day * 24;
  for (let j = 0; j < n; j++) {
    const i = order[j];
    const t = ts[i] as number;
    tsA[j] = t;
    const abs = t + start;
    let off = segs[0][1];
    for (let s = 1; s < segs.length && abs >= segs[s][0]; s++) off = segs[s][1];
    hour[j] = Math.floor((abs + off) / HOUR) - base;
    visit[j] = vOf[i];
    bytes[j] = (bytesRaw[i] as number | null) ?? 0;
    load[j] = (loadRaw[i] as number | null) ?? NULL_INT;
    eng[j] = (engRaw[i] as number | null) ?? NULL_INT;
    const sd = scrollRaw[i];
    if (sd === null) scroll[j] = NO_SCROLL;
    else if (Number.isInteger(sd) && sd >= 0 && sd < NO_SCROLL) scroll[j] = sd;
    else throw new UnheldValue();
  }

  const real = new Uint8Array(m), visitor = new Int32Array(m), bounce = new Uint8Array(m), dur = new Float64Array(m), vpv = new Int32Array(m);
  let reach = start;
  const attrRaw = VISIT_DIMS.map(() => new Array<number | null>(m));
  vs.forEach((v, i) => {
    real[i] = v.id !== 0 ? 1 : 0;
    visitor[i] = v.visitor;
    const r = v.row;
    bounce[i] = r ? (r[3] as number) : 0;
    dur[i] = r ? (r[4] as number) : 0;
    vpv[i] = r ? (r[5] as number) : 0;
    if (r && (r[6] as number) > reach) reach = r[6] as number;
    for (let a = 0; a < VISIT_DIMS.length; a++) attrRaw[a][i] = r ? (r[V_FIXED + a] as number | null) : null;
  });
  const attrs = new Map(VISIT_DIMS.map((d, a) => [d.name, dict(attrRaw[a], null)]));
  const seg: Segment = {
    siteId, tz, day, start, end, n, ts: tsA, hour, visit,
    page: dict(col(4), order), host: dict(col(3), order), name: dict(col(2), order), status: dict(col(6), order),
    bytes, load, eng, scroll, m, real, visitor, bounce, dur, vpv, attrs, reach, matches: new Map(), totals: new Map(), visitStart,
    own: undefined as unknown as VisitSums, visitSums: null, size: 0,
  };
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  seg.own = sumVisits(seg, all, nameIds(sqlite, siteId));
  seg.size = bytesOf(seg);
  return seg;
}

export const totalsBytes = (t: Float64Array[]) => t.reduce((a, x) => a + x.byteLength, 0);

/** Bytes a segment's arrays hold (dictionaries counted at ~16 bytes per value). */
export function bytesOf(s: Segment): number {
  const d = (x: Dict) => x.codes.byteLength + x.values.length * 16;
  let b = 256 + s.ts.byteLength + s.hour.byteLength + s.visit.byteLength + d(s.page) + d(s.host) + d(s.name) + d(s.status)
    + s.bytes.byteLength + s.load.byteLength + s.eng.byteLength + s.scroll.byteLength
    + s.real.byteLength + s.visitor.byteLength + s.bounce.byteLength + s.dur.byteLength + s.vpv.byteLength;
  for (const a of s.attrs.values()) b += d(a);
  for (const x of s.matches.values()) b += x.byteLength;
  for (const t of s.totals.values()) b += totalsBytes(t);
  b += s.visitSums?.bytes ?? 0;
  b += s.visitStart.byteLength + visitSumsBytes(s.own);
  return b;
}
