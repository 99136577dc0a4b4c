// Reports from raw events: the base sums per local day (and hour) and dimension values, read
// through the (site_id, ts) index with each event's visit joined. Events are first grouped per
// visit, so a visit's bounce, duration and page count count once per day it touched. The daily
// rollups are built by this same query, one day at a time, so both paths count alike.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import { visitJoins, type Dimension } from './dimensions.ts';
import type { Compiled } from './filters.ts';
import { B, BASE, type Base } from './metrics.ts';
import { localMsSql, offsetSegments } from './time-zone.ts';
import { dimensionText, nameIds } from './string-ids.ts';

const B_EVENTS = B.events;

export interface SourceRequest {
  siteId: number;
  /** [start, end) in ms, and the site's zone for local days and hours. */
  start: number;
  end: number;
  tz: string;
  /** Dimensions to group by (not time, not goals). */
  dims: Dimension[];
  /** Group by local hour as well as local day. */
  hourly: boolean;
  /** Sum the days together (no time dimension asked). */
  collapseDays: boolean;
  filter: Compiled | null;
  /** Add scroll depth's two sums after the base sums (metrics.ts SCROLL_SUM, SCROLL_N). */
  scroll?: boolean;
}

export interface SourceRow {
  day: number | null;
  hour: number | null;
  keys: Array<string | null>;
  base: Base;
}

const COUNTED = 'n > 0 AND vid != 0';

// Per visit (and day and dimension values): its counts. `n` = events that are not engagement
// reports; a log request outside any visit has vid 0 and counts as an event only. Event names
// are string ids of the site, inlined as numbers.
const perVisit = (pv: number, eng: number) => `max(v.visitor_id) AS vis, max(v.bounce) AS bounce, max(v.end_ts - v.start_ts) AS dur, max(v.pageviews) AS vpv,
    sum(e.name_id != ${eng}) AS n,
    sum(e.name_id = ${pv}) AS pv,
    sum(CASE WHEN e.name_id != ${eng} THEN e.bytes END) AS b,
    sum(CASE WHEN e.name_id = ${pv} THEN e.load_ms END) AS ls,
    count(CASE WHEN e.name_id = ${pv} THEN e.load_ms END) AS ln,
    sum(CASE WHEN e.name_id = ${eng} THEN e.engagement_ms END) AS eng`;

// Scroll depth (Plausible's scroll_depth): each visit's deepest report among the group's events —
// per page with an event:page dimension, across the filtered pages without — then, per row, the
// sum of those maxima and the number of visits that reported one (the mean is derived).
const SCROLL_PER_VISIT = (eng: number) => `, max(CASE WHEN e.name_id = ${eng} THEN e.scroll_depth END) AS sd`;
const SCROLL_SUMS = ['coalesce(sum(sd), 0) AS scroll_sum', 'count(sd) AS scroll_n'];
const SCROLL_NAMES = ['scroll_sum', 'scroll_n'];

// The base sums, in the order of BASE.
const SUMS = [
  `count(DISTINCT CASE WHEN ${COUNTED} THEN vis END)`,
  `sum(${COUNTED})`,
  'sum(pv)',
  'sum(n)',
  `sum(CASE WHEN ${COUNTED} THEN bounce END)`,
  `sum(CASE WHEN ${COUNTED} THEN dur END)`,
  `sum(CASE WHEN ${COUNTED} THEN vpv END)`,
  'sum(b)', 'sum(ls)', 'sum(ln)', 'sum(eng)',
  'sum(eng IS NOT NULL AND vid != 0)',
].map((s, i) => `coalesce(${s}, 0) AS ${BASE[i]}`);

const statements = new WeakMap<SqlConnection, Map<string, SqlStatement>>();

/** Prepared once per connection and SQL text: the dashboard asks the same shapes all day. */
export function prepared(sqlite: SqlConnection, sql: string): SqlStatement {
  let m = statements.get(sqlite);
  if (!m) statements.set(sqlite, (m = new Map()));
  let st = m.get(sql);
  if (!st) {
    if (m.size > 500) m.clear();
    st = sqlite.prepare(sql).raw(true);
    m.set(sql, st);
  }
  return st;
}

export function rawRows(sqlite: SqlConnection, q: SourceRequest): SourceRow[] {
  const ids = nameIds(sqlite, q.siteId);
  const local = localMsSql('e.ts', offsetSegments(q.start, q.end, q.tz));
  const keys = q.dims.map((_, i) => `k${i}`);
  const inner = [`${local} / 86400000 AS day`];
  if (q.hourly) inner.push(`${local} / 3600000 AS hr`);
  const params: unknown[] = [];
  q.dims.forEach((d, i) => {
    inner.push(`${d.sql} AS k${i}`);
    params.push(...(d.params ?? []));
  });
  const innerGroup = ['day', ...(q.hourly ? ['hr'] : []), ...keys, 'vid'];
  params.push(q.siteId, q.start, q.end, ...(q.filter?.params ?? []));
  const timeCols = ['day', ...(q.hourly ? ['hr'] : [])];
  let sql = `WITH g AS (
    SELECT ${inner.join(', ')}, e.visit_id AS vid, ${perVisit(ids.pageview, ids.engagement)}${q.scroll ? SCROLL_PER_VISIT(ids.engagement) : ''}
    FROM events e LEFT JOIN visits v ON v.id = e.visit_id ${visitJoins(`${inner.join(' ')} ${q.filter?.sql ?? ''}`)}
    WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ?${q.filter ? ` AND ${q.filter.sql}` : ''}
    GROUP BY ${innerGroup.join(', ')})
  SELECT day, ${q.hourly ? 'hr' : 'NULL'}, ${[...keys, ...SUMS, ...(q.scroll ? SCROLL_SUMS : [])].join(', ')}
  FROM g
  GROUP BY ${[...timeCols, ...keys].join(', ')}
  HAVING sum(n) > 0`;
  // Distinct counts are per day: days are summed only after each day is counted.
  if (q.collapseDays) {
    sql = `SELECT NULL, NULL, ${[...keys, ...[...BASE, ...(q.scroll ? SCROLL_NAMES : [])].map((b) => `sum(${b})`)].join(', ')}
    FROM (${sql}) ${keys.length ? `GROUP BY ${keys.join(', ')}` : ''}`;
  }
  const rows = prepared(sqlite, sql).all(...params) as unknown[][];
  const nk = q.dims.length;
  return rows.map((r) => ({
    day: r[0] as number | null,
    hour: r[1] as number | null,
    keys: r.slice(2, 2 + nk).map((k, i) => dimensionText(sqlite, q.dims[i], k)),
    base: r.slice(2 + nk).map((x) => Number(x ?? 0)),
  })).filter((r) => r.base[B_EVENTS] > 0);
}
