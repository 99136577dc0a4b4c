// Reports computed in JS from one read of the raw events: the same base sums as the SQL in
// raw-source.ts (a property test holds the two equal), but any number of groupings in a single
// pass. The rollup builder uses it to roll up every dimension of a day from one read (26 SQL
// scans of the day before: ~8× slower), and filtered reports that day segments cannot answer
// (custom properties, HTTP status filters) use it through row-cache.ts.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import { VISIT_JOINS, type Dimension } from './dimensions.ts';
import type { Compiled } from './filters.ts';
import type { Base } from './metrics.ts';
import { prepared, type SourceRow } from './raw-source.ts';
import { localMsSql, offsetSegments } from './time-zone.ts';
import { dimensionText, nameIds } from './string-ids.ts';

/** Rows of events with what every grouping needs; column positions below. */
export interface EventRows {
  rows: unknown[][];
  /** Dimension name → column index in each row. */
  dimCol: Map<string, number>;
  /** Column index → the text of a value in it (string ids decoded). */
  text: Map<number, (raw: unknown) => string | null>;
  /** The site's string ids of the event names the counts depend on. */
  ids: { pageview: number; engagement: number };
}

const DAY = 0, HR = 1, VID = 2, VHI = 3, VLO = 4, NAME = 5, BYTES = 6, LOAD = 7, ENG = 8, BOUNCE = 9, DUR = 10, VPV = 11, SD = 12;
const FIXED_COLS = 13;
/** Column positions in EventRows.rows (the dimensions follow, from FIXED_COLS on). */
export const COL = { DAY, HR, VID, VHI, VLO, NAME, BYTES, LOAD, ENG, BOUNCE, DUR, VPV, SD, FIXED_COLS } as const;

export interface FetchRequest {
  siteId: number;
  start: number;
  end: number;
  tz: string;
  dims: Dimension[];
  filter: Compiled | null;
}

/** Reads the events of [start, end) that pass the filter, with the values of `dims`. */
export function fetchEventRows(sqlite: SqlConnection, q: FetchRequest): EventRows {
  const local = localMsSql('e.ts', offsetSegments(q.start, q.end, q.tz));
  const params: unknown[] = [];
  const dimCol = new Map<string, number>();
  const text = new Map<number, (raw: unknown) => string | null>();
  const cols = q.dims.map((d, i) => {
    dimCol.set(d.name, FIXED_COLS + i);
    text.set(FIXED_COLS + i, (raw) => dimensionText(sqlite, d, raw));
    params.push(...(d.params ?? []));
    return d.sql;
  });
  // The 64-bit visitor id in two exact halves (JS numbers hold 53 bits).
  const sql = `SELECT ${local} / 86400000, ${local} / 3600000, e.visit_id, v.visitor_id >> 32, v.visitor_id & 4294967295,
      e.name_id, e.bytes, e.load_ms, e.engagement_ms, v.bounce, v.end_ts - v.start_ts, v.pageviews, e.scroll_depth${cols.map((c) => `, ${c}`).join('')}
    FROM events e LEFT JOIN visits v ON v.id = e.visit_id ${VISIT_JOINS}
    WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ?${q.filter ? ` AND ${q.filter.sql}` : ''}`;
  params.push(q.siteId, q.start, q.end, ...(q.filter?.params ?? []));
  return { rows: prepared(sqlite, sql).all(...params) as unknown[][], dimCol, text, ids: nameIds(sqlite, q.siteId) };
}

/** One way to group rows: by local day (or hour) and the values of some dimensions. */
export interface Grouping {
  hourly: boolean;
  /** Column indexes of the dimensions, from EventRows.dimCol. */
  cols: number[];
  /** Add scroll depth's two sums after the base sums (metrics.ts SCROLL_SUM, SCROLL_N), as raw-source.ts does. */
  scroll?: boolean;
}

// Per visit within a group: [counted events, page views, engaged ms or -1, visitor index, bounce, duration ms, visit page views,
// deepest scroll of its engagement reports or -1]
type VisitSlot = [number, number, number, number, number, number, number, number];

interface Group {
  day: number;
  hour: number | null;
  keys: Array<string | null>;
  visits: Map<number, VisitSlot>;
  events: number;
  bytes: number;
  loadMs: number;
  loadN: number;
}

/** Aggregates the rows under each grouping; returns one SourceRow list per grouping. */
export function aggregate(data: EventRows, groupings: Grouping[]): SourceRow[][] {
  const maps = groupings.map(() => new Map<string, Group>());
  const visitorOf = new Map<number, number>();
  const visitorIds = new Map<string, number>();
  for (const r of data.rows) {
    const vid = r[VID] as number;
    let visitor = visitorOf.get(vid);
    if (visitor === undefined) {
      const k = `${r[VHI]}:${r[VLO]}`;
      visitor = visitorIds.get(k);
      if (visitor === undefined) visitorIds.set(k, (visitor = visitorIds.size));
      visitorOf.set(vid, visitor);
    }
    const name = r[NAME] as number;
    const engagement = name === data.ids.engagement;
    const pageview = name === data.ids.pageview;
    for (let g = 0; g < groupings.length; g++) {
      const { hourly, cols } = groupings[g];
      const time = (hourly ? r[HR] : r[DAY]) as number;
      let key = String(time);
      for (const c of cols) key += `\u0001${r[c] ?? '\u0002'}`;
      const map = maps[g];
      let grp = map.get(key);
      if (!grp) {
        grp = { day: r[DAY] as number, hour: hourly ? (r[HR] as number) : null, keys: cols.map((c) => data.text.get(c)!(r[c])), visits: new Map(), events: 0, bytes: 0, loadMs: 0, loadN: 0 };
        map.set(key, grp);
      }
      let slot = grp.visits.get(vid);
      if (!slot) {
        slot = [0, 0, -1, visitor, (r[BOUNCE] as number) ?? 0, (r[DUR] as number) ?? 0, (r[VPV] as number) ?? 0, -1];
        grp.visits.set(vid, slot);
      }
      if (engagement) {
        slot[2] = (slot[2] < 0 ? 0 : slot[2]) + ((r[ENG] as number) ?? 0);
        const sd = r[SD] as number | null;
        if (sd !== null && sd > slot[7]) slot[7] = sd;
      } else {
        slot[0]++;
        grp.events++;
        grp.bytes += (r[BYTES] as number) ?? 0;
        if (pageview) {
          slot[1]++;
          if (r[LOAD] !== null) { grp.loadMs += r[LOAD] as number; grp.loadN++; }
        }
      }
    }
  }
  return maps.map((map, g) => {
    const out: SourceRow[] = [];
    const scroll = groupings[g].scroll === true;
    for (const grp of map.values()) {
      if (grp.events === 0) continue;
      const seen = new Set<number>();
      let visits = 0, pageviews = 0, bounces = 0, dur = 0, vpv = 0, eng = 0, engVisits = 0, sdSum = 0, sdN = 0;
      for (const [vid, s] of grp.visits) {
        pageviews += s[1];
        // Any visit id, 0 included, as the SQL's count(sd) per (group, visit_id).
        if (s[7] >= 0) {
          sdSum += s[7];
          sdN++;
        }
        if (s[2] >= 0) {
          eng += s[2];
          if (vid !== 0) engVisits++;
        }
        if (s[0] > 0 && vid !== 0) {
          seen.add(s[3]);
          visits++;
          bounces += s[4];
          dur += s[5];
          vpv += s[6];
        }
      }
      const base: Base = [seen.size, visits, pageviews, grp.events, bounces, dur, vpv, grp.bytes, grp.loadMs, grp.loadN, eng, engVisits];
      if (scroll) base.push(sdSum, sdN);
      out.push({ day: grp.day, hour: grp.hour, keys: grp.keys, base });
    }
    return out;
  });
}
