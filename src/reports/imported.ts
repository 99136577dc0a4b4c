// Imported aggregates (hush import-plausible, src/import/plausible.ts) in reports. They are added
// to a site's own data for the days before its first native event — as Plausible adds Google
// Analytics imports — when the query can be answered from them:
//   - whole local days, bucketed by day, week or month (not by hour: imports are daily);
//   - no dimension, or one dimension the import has (pages, hostnames, entry and exit pages,
//     event names, sources, channels, referrers, UTM tags, countries, browsers and versions,
//     operating systems and versions, devices);
//   - no filter, or filters on that one dimension only (any operator, nested as you like);
//   - metrics the import has numbers for (see KNOWN: no bytes or load time anywhere, no bounce
//     rate or visit duration for pages and event names, time on page for pages only).
// Otherwise the answer is native data only, and meta says why (imports_skip_reason). Rows are
// read like daily rollups, so k-anonymity, "(other)", comparisons and time buckets apply as
// everywhere; meta.imports_included tells whether they were added and meta.imported for which days.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import type { ReportContext } from './engine.ts';
import type { Query } from './query.ts';
import type { Range } from './date-range.ts';
import type { Filter } from './filters.ts';
import type { SourceRow } from './raw-source.ts';
import { prepared } from './raw-source.ts';
import { NONE, textTest } from './filters.ts';
import { B, BASE, baseColumns } from './metrics.ts';
import { bucketOf } from './time-buckets.ts';
import { dayDate, localDayNumber } from './time-zone.ts';

/** The days a query reads imported rows for, and the dimension a filter-only query reads. */
export interface ImportWindow {
  fromDay: number;
  toDay: number;
  /** The dimension code of the query's filters (0 without filters). */
  filterDim: number;
}

export interface ImportPlan {
  window: ImportWindow | null;
  meta: Record<string, unknown> | null;
}

const cols = (...names: Array<(typeof BASE)[number]>) => new Set(names.map((n) => B[n]));
const VISIT = cols('visitors', 'visits', 'pageviews', 'events', 'bounces', 'duration_ms', 'visit_pageviews');
const PAGE = cols('visitors', 'visits', 'pageviews', 'events', 'engaged_ms', 'engaged_visits');
const NAME = cols('visitors', 'pageviews', 'events');

/** Dimension code → the base sums imports have for it (codes of dimensions.ts). */
export const KNOWN = new Map<number, Set<number>>([
  [0, VISIT], [1, PAGE], [2, PAGE], [3, NAME], [5, VISIT], [6, VISIT],
  ...[7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].map((c): [number, Set<number>] => [c, VISIT]),
]);

/** The dimensions a filter tree tests (undefined for a goal or custom property: not imported). */
function filterDims(f: Filter, out: Set<number | undefined>): void {
  if ('children' in f) f.children.forEach((c) => filterDims(c, out));
  else if ('child' in f) filterDims(f.child, out);
  else out.add(f.dim.code);
}

/** The site's imported days (of the whole-site rows), or null without imports. */
export function importedSpan(sqlite: SqlConnection, siteId: number): { fromDay: number; toDay: number } | null {
  const [from, to] = prepared(sqlite, 'SELECT min(day), max(day) FROM imported_stats WHERE site_id = ? AND dim = 0').get(siteId) as [number | null, number | null];
  return from === null || to === null ? null : { fromDay: from, toDay: to };
}

/** The first local day with a native event, or null. */
function firstNativeDay(ctx: ReportContext): number | null {
  const [ts] = prepared(ctx.sqlite, 'SELECT min(ts) FROM events WHERE site_id = ?').get(ctx.site.id) as [number | null];
  return ts === null ? null : localDayNumber(ts, ctx.site.timezone);
}

/** Whether (and for which days) a query over range `r` adds imported rows, and what meta says. */
export function importPlan(ctx: ReportContext, q: Query, r: Range): ImportPlan {
  const span = importedSpan(ctx.sqlite, ctx.site.id);
  if (!span) return { window: null, meta: null };
  const first = firstNativeDay(ctx);
  const fromDay = Math.max(r.fromDay, span.fromDay);
  const toDay = Math.min(r.toDay, span.toDay, first === null ? Infinity : first - 1);
  const skip = (reason: string | null): ImportPlan => ({ window: null, meta: { imports_included: false, ...(reason ? { imports_skip_reason: reason } : {}) } });
  if (q.imports === false) return skip(null);
  if (fromDay > toDay) return skip(span.toDay >= r.fromDay && span.fromDay <= r.toDay ? 'native_data' : 'out_of_range');
  if (!r.whole) return skip('unsupported_interval');
  const time = q.dims.find((d) => 'time' in d);
  if (time && 'time' in time && bucketOf(time.time, r) === 'hour') return skip('unsupported_interval');
  const plain = q.dims.flatMap((d) => ('dim' in d ? [d.dim.code] : []));
  if (plain.length > 1 || plain.some((c) => c === undefined || !KNOWN.has(c))) return skip('unsupported_query');
  const tested = new Set<number | undefined>();
  if (q.filter) filterDims(q.filter, tested);
  if (tested.size > 1 || [...tested].some((c) => c === undefined || !KNOWN.has(c))) return skip('unsupported_query');
  const filterDim = tested.size ? [...tested][0]! : 0;
  if (plain.length && tested.size && plain[0] !== filterDim) return skip('unsupported_query');
  const known = KNOWN.get(plain[0] ?? filterDim)!;
  if (!baseColumns(q.metrics).every((c) => known.has(c))) return skip('unsupported_metrics');
  return {
    window: { fromDay, toDay, filterDim },
    meta: { imports_included: true, imported: { source: 'plausible', from: dayDate(fromDay), to: dayDate(toDay) } },
  };
}

/** A filter over one dimension as SQL on imported_stats.value (the same tests as filters.ts). */
function valueFilter(f: Filter, params: unknown[]): string {
  if ('children' in f) return `(${f.children.map((c) => valueFilter(c, params)).join(f.op === 'and' ? ' AND ' : ' OR ')})`;
  if ('child' in f) return `NOT coalesce(${valueFilter(f.child, params)}, 0)`;
  const positive = f.op.replace('_not', '') as 'is' | 'contains' | 'matches';
  const parts: string[] = [];
  if (f.clauses.includes(NONE)) parts.push('value IS NULL');
  for (const c of f.clauses) {
    if (c === NONE) continue;
    parts.push(textTest(positive, f.ci, 'value'));
    params.push(c);
  }
  const sql = `coalesce(${parts.join(' OR ')}, 0)`;
  return f.op.endsWith('_not') ? `NOT ${sql}` : `(${sql})`;
}

/**
 * Imported base rows for the window's days within `r`: per day (or collapsed over the days),
 * grouped by the one dimension in `dims` or, without one, summed; `filter` tests the values.
 */
export function importedRows(sqlite: SqlConnection, siteId: number, w: ImportWindow, r: Range, dims: Array<{ code?: number }>,
  collapse: boolean, filter: Filter | null, wanted: number[] = BASE.map((_, i) => i)): SourceRow[] {
  const from = Math.max(r.fromDay, w.fromDay), to = Math.min(r.toDay, w.toDay);
  if (from > to) return [];
  const code = dims.length ? dims[0].code! : filter ? w.filterDim : 0;
  const params: unknown[] = [siteId, code, from, to];
  const where = filter ? ` AND ${valueFilter(filter, params)}` : '';
  const key = dims.length ? 'value, ' : '';
  const sums = BASE.map((b, i) => (wanted.includes(i) ? `sum(${b})` : '0')).join(', ');
  const group = [collapse ? '' : 'day', dims.length ? 'value' : ''].filter(Boolean).join(', ');
  const sql = `SELECT ${collapse ? 'NULL' : 'day'}, NULL, ${key}${sums} FROM imported_stats
    WHERE site_id = ? AND dim = ? AND day BETWEEN ? AND ?${where}${group ? ` GROUP BY ${group}` : ''}`;
  const rows = prepared(sqlite, sql).all(...params) as unknown[][];
  const nk = dims.length ? 1 : 0;
  return rows.filter((x) => x[2 + nk] !== null).map((x) => ({
    day: x[0] as number | null,
    hour: null,
    keys: x.slice(2, 2 + nk) as Array<string | null>,
    base: x.slice(2 + nk) as number[],
  }));
}
