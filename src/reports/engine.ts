// The report engine behind POST /api/v2/query, the CSV export and the dashboard: validates the
// query, reads base sums from rollups or raw events (plan.ts picks per run of days), groups
// them into result rows, applies k-anonymity, derives the metrics, sorts, pages and compares.
//
// k-anonymity, per site k (min_visitors):
//  - a row with a non-time dimension describing fewer than k visitors folds into "(other)"
//    (per time bucket), so totals stay right;
//  - with filters, the filtered total and its complement (unfiltered − filtered) must each be
//    0 or ≥ k, or the whole answer is suppressed; and each row's complement is checked the same
//    way, so two queries cannot be subtracted to isolate a smaller group (differencing).
import type { SqlConnection } from '../store/sql.ts';
import type { Site } from '../store/sites.ts';
import type { Goal } from '../store/goals.ts';
import { GOAL } from './dimensions.ts';
import { compileFilter, withoutGoalFilters, NONE, type Compiled, type Filter } from './filters.ts';
import { goalCondition } from './goal-sql.ts';
import { addInto, B, baseColumns, derive, zero, type Base, type Metric, type Totals } from './metrics.ts';
import { parseQuery, dimName, type Query } from './query.ts';
import { fetchBase, type Used, type Where } from './plan.ts';
import { bucketLabel, timeLabels } from './time-buckets.ts';
import { rangeLabel, type Range } from './date-range.ts';
import { importPlan, importedSpan, type ImportWindow } from './imported.ts';
import { dayStart } from './time-zone.ts';
import type { StringMatch } from './string-match.ts';

export const OTHER = '(other)';

export interface ReportContext {
  sqlite: SqlConnection;
  site: Pick<Site, 'id' | 'domain' | 'timezone' | 'minVisitors'>;
  goals: Goal[];
  now: number;
  /** Read raw events through the SQL path even where rollups exist (tests compare the paths). */
  forceRaw?: boolean;
  /** Read raw events through the row cache, not day segments (tests and benches compare). */
  noSegments?: boolean;
  /** Set while reading a filtered query's unfiltered rows (complement-cache.ts). */
  complement?: boolean;
  /**
   * Read scroll depth's two sums too (metrics.ts SCROLL_SUM, SCROLL_N), set by fetchRange for the
   * rows a query asking for scroll_depth shows; every source counts them (see plan.ts).
   */
  scroll?: boolean;
  /**
   * Decide `matches` filters and page goals in JS (string-match.ts), for a connection without
   * the regexp/path_glob SQL functions (a Durable Object); absent: those functions.
   */
  match?: StringMatch;
  /**
   * Where "all" starts, when the caller knows it better than this store (a shard holds part of
   * the site: the earliest of all shards' firstEventAt); absent: this store's own.
   */
  firstEvent?: number | null;
  /** Imported days this query adds (set by execute from imported.ts's plan). */
  imports?: ImportWindow | null;
}

export interface ResultRow {
  metrics: Array<number | null>;
  dimensions: string[];
  comparison?: { dimensions: string[]; metrics: Array<number | null>; change: Array<number | null> };
}

export interface QueryResponse {
  results: ResultRow[];
  meta: Record<string, unknown>;
  query: Record<string, unknown>;
}

interface Row {
  labels: string[];
  base: Base;
  other: boolean;
  suppressed: boolean;
  metrics: Array<number | null>;
}

function and(a: Compiled | null, b: Compiled): Compiled {
  return a ? { sql: `(${a.sql} AND ${b.sql})`, params: [...a.params, ...b.params] } : b;
}

/** The query's rows for a range and filter: base sums per combination of output labels. */
function collect(ctx: ReportContext, q: Query, r: Range, filter: Filter | null, used: Used): Map<string, Row> {
  const time = q.dims.find((d) => 'time' in d) as { bucket: 'hour' | 'day' | 'week' | 'month' } | undefined;
  const plain = q.dims.flatMap((d) => ('dim' in d && d.dim.name !== GOAL ? [d.dim] : []));
  const compiled = filter ? compileFilter(filter, { siteId: ctx.site.id, goals: ctx.goals, match: ctx.match }) : null;
  const hasGoalDim = q.dims.some((d) => 'dim' in d && d.dim.name === GOAL);
  const runs = hasGoalDim
    ? ctx.goals.map((g): { goal: string | null; where: Where | null } => ({ goal: g.name, where: { sql: and(compiled, goalCondition(g, ctx.site.id, ctx.match)), filter, goal: g } }))
    : [{ goal: null, where: compiled && { sql: compiled, filter, goal: null } }];
  const rows = new Map<string, Row>();
  for (const run of runs) {
    for (const s of fetchBase(ctx, r, plain, time?.bucket === 'hour', !time, run.where, used, baseColumns(q.metrics))) {
      let p = 0;
      const labels = q.dims.map((d) => {
        if ('time' in d) return bucketLabel(d.bucket, r, s.day!, s.hour);
        if (d.dim.name === GOAL) return run.goal!;
        return s.keys[p++] ?? NONE;
      });
      const key = labels.join('\u0000');
      const row = rows.get(key);
      if (row) addInto(row.base, s.base);
      else rows.set(key, { labels, base: [...s.base], other: false, suppressed: false, metrics: [] });
    }
  }
  return rows;
}

function total(ctx: ReportContext, r: Range, filter: Filter | null, used: Used, cols?: number[]): Base {
  const sum = zero();
  const compiled = filter ? compileFilter(filter, { siteId: ctx.site.id, goals: ctx.goals, match: ctx.match }) : null;
  for (const s of fetchBase(ctx, r, [], false, true, compiled && { sql: compiled, filter, goal: null }, used, cols)) addInto(sum, s.base);
  return sum;
}

const small = (n: number, k: number) => n > 0 && n < k;

interface Computed {
  rows: Row[];
  folded: number;
  suppressed: string | null;
}

/**
 * The additive base sums of one range of a query, as one store holds them: everything the answer
 * is made of before k-anonymity. Sums from stores that split a site's visitors (shards, each
 * holding every hit of its visitors' days) add up to the sums of the whole site (mergeSums), and
 * finish() applies k to the merged sums only: a row is judged by all its visitors, never by a
 * shard's part of them.
 */
export interface RangeSums {
  /** The filtered total (the aggregate row). */
  total: Base;
  /** Visitors without the goal filters (conversion_rate's divisor), when asked for. */
  convBase?: number;
  /** Visitors without any filter, for a filtered query (its complement must be 0 or ≥ k). */
  all?: number;
  /** Base sums per combination of output labels (queries with dimensions). */
  rows?: Array<[string[], Base]>;
  /** The same rows without the filters (each row's complement is checked too). */
  unfiltered?: Array<[string[], Base]>;
}

/** A query's sums from one store: its range and, with a comparison, the earlier one. */
export interface QuerySums {
  main: RangeSums;
  prev: RangeSums | null;
  /** Which sources answered (meta.source). */
  used: string[];
  /** What imported.ts adds to meta, when imported days were included. */
  importsMeta: Record<string, unknown> | null;
}

const rowList = (rows: Map<string, Row>): Array<[string[], Base]> => [...rows.values()].map((r) => [r.labels, r.base]);

/**
 * Reads a range's sums. `complete`: read every part, even rows a single store already knows k
 * will suppress (a shard cannot know: its totals are only part of the site's).
 */
function fetchRange(ctx: ReportContext, q: Query, r: Range, used: Used, complete: boolean): RangeSums {
  const k = ctx.site.minVisitors;
  // The rows the answer shows read scroll depth's sums where asked; the totals and complements
  // that only check k (or are percentages' divisors) read as usual. The total is the answer's row
  // only without dimensions (then a page filter is required): a site's whole-site total has no
  // scroll depth of its own, and reading one would send it past the rollups.
  const shown: ReportContext = q.metrics.includes('scroll_depth') ? { ...ctx, scroll: true } : ctx;
  // The aggregate row is the total itself: it reads every column its metrics need.
  const out: RangeSums = { total: total(q.dims.length ? ctx : shown, r, q.filter, used, baseColumns(q.metrics)) };
  if (q.metrics.includes('conversion_rate')) out.convBase = total(ctx, r, withoutGoalFilters(q.filter), used)[B.visitors];
  if (q.filter) {
    out.all = total(ctx, r, null, used)[B.visitors];
    if (!complete && suppressedBy(k, out)) return out;
  }
  if (q.dims.length === 0) return out;
  out.rows = rowList(collect(shown, q, r, q.filter, used));
  if (q.filter) out.unfiltered = rowList(collect({ ...ctx, complement: true }, q, r, null, used));
  return out;
}

/** A filtered total, or what it leaves out, describes fewer than k visitors (but some). */
function suppressedBy(k: number, s: RangeSums): boolean {
  const f = s.total[B.visitors];
  return s.all !== undefined && (small(f, k) || small(s.all - f, k));
}

function addRows(into: Map<string, [string[], Base]>, rows: Array<[string[], Base]>): void {
  for (const [labels, base] of rows) {
    const key = labels.join('\u0000');
    const had = into.get(key);
    if (had) addInto(had[1], base);
    else into.set(key, [labels, [...base]]);
  }
}

function mergeRange(parts: RangeSums[]): RangeSums {
  const out: RangeSums = { total: zero() };
  const rows = new Map<string, [string[], Base]>(), unfiltered = new Map<string, [string[], Base]>();
  for (const p of parts) {
    addInto(out.total, p.total);
    if (p.convBase !== undefined) out.convBase = (out.convBase ?? 0) + p.convBase;
    if (p.all !== undefined) out.all = (out.all ?? 0) + p.all;
    if (p.rows) addRows(rows, p.rows), (out.rows ??= []);
    if (p.unfiltered) addRows(unfiltered, p.unfiltered), (out.unfiltered ??= []);
  }
  if (out.rows) out.rows = [...rows.values()];
  if (out.unfiltered) out.unfiltered = [...unfiltered.values()];
  return out;
}

/** The sums of a site split over several stores (each read with `complete`), as one store's. */
export function mergeSums(parts: QuerySums[]): QuerySums {
  if (parts.length === 1) return parts[0];
  const prevs = parts.map((p) => p.prev).filter((p): p is RangeSums => p !== null);
  return {
    main: mergeRange(parts.map((p) => p.main)),
    prev: prevs.length ? mergeRange(prevs) : null,
    used: [...new Set(parts.flatMap((p) => p.used))],
    importsMeta: parts.find((p) => p.importsMeta)?.importsMeta ?? null,
  };
}

/** k-anonymity, folding and the metrics of one range, from its (merged) sums. */
function finishRange(k: number, q: Query, s: RangeSums): Computed {
  const totalF = s.total;
  const totals: Totals = { visitors: totalF[B.visitors], convBase: s.convBase ?? totalF[B.visitors] };
  if (q.filter && suppressedBy(k, s)) {
    const suppressed = `fewer than ${k} visitors match the filters, or fewer than ${k} are left out by them`;
    return { rows: q.dims.length ? [] : [nullRow(q)], folded: 0, suppressed };
  }
  if (q.dims.length === 0) {
    const row: Row = { labels: [], base: totalF, other: false, suppressed: false, metrics: [] };
    row.metrics = q.metrics.map((m) => derive(m, row.base, totals));
    return { rows: [row], folded: 0, suppressed: null };
  }

  const rows = new Map<string, Row>((s.rows ?? []).map(([labels, base]) => [labels.join('\u0000'), { labels, base, other: false, suppressed: false, metrics: [] }]));
  const unfiltered = s.unfiltered ? new Map(s.unfiltered.map(([labels, base]) => [labels.join('\u0000'), { base }])) : null;
  const timeIdx = q.dims.findIndex((d) => 'time' in d);
  const grouped = q.dims.some((d) => 'dim' in d);
  const kept: Row[] = [];
  const others = new Map<string, Row>();
  let folded = 0;
  for (const [key, row] of rows) {
    const v = row.base[B.visitors];
    const u = unfiltered?.get(key)?.base[B.visitors] ?? v;
    const tooSmall = v < k || small(u - v, k);
    if (grouped && tooSmall) {
      folded++;
      const t = timeIdx >= 0 ? row.labels[timeIdx] : '';
      let o = others.get(t);
      if (!o) {
        o = { labels: q.dims.map((d, i) => (i === timeIdx ? t : OTHER)), base: zero(), other: true, suppressed: false, metrics: [] };
        others.set(t, o);
      }
      addInto(o.base, row.base);
    } else {
      // A time bucket of a filtered query: too small to show, but nothing to fold it into.
      row.suppressed = !grouped && q.filter !== null && tooSmall;
      kept.push(row);
    }
  }
  const all = [...kept, ...others.values()];
  for (const row of all) row.metrics = row.suppressed ? q.metrics.map(() => null) : q.metrics.map((m) => derive(m, row.base, totals));
  sortRows(all, q);
  return { rows: all, folded, suppressed: null };
}

function nullRow(q: Query): Row {
  return { labels: [], base: zero(), other: false, suppressed: true, metrics: q.metrics.map(() => null) };
}

function sortRows(rows: Row[], q: Query): void {
  const names = q.dims.map(dimName);
  const keyOf = (row: Row, name: string): string | number | null => {
    const m = q.metrics.indexOf(name as Metric);
    return m >= 0 ? row.metrics[m] : row.labels[names.indexOf(name)];
  };
  const cmp = (a: string | number | null, b: string | number | null) => {
    if (a === b) return 0;
    if (a === null) return -1;
    if (b === null) return 1;
    return a < b ? -1 : 1;
  };
  const timeFirst = q.dims.some((d) => 'time' in d && dimName(d) === q.orderBy[0][0]);
  rows.sort((a, b) => {
    let start = 0;
    if (timeFirst) {
      const c = cmp(keyOf(a, q.orderBy[0][0]), keyOf(b, q.orderBy[0][0])) * (q.orderBy[0][1] === 'asc' ? 1 : -1);
      if (c) return c;
      start = 1;
    }
    // "(other)" comes after the named rows (of its time bucket).
    if (a.other !== b.other) return a.other ? 1 : -1;
    for (const [name, dir] of q.orderBy.slice(start)) {
      const c = cmp(keyOf(a, name), keyOf(b, name)) * (dir === 'asc' ? 1 : -1);
      if (c) return c;
    }
    return cmp(a.labels.join('\u0000'), b.labels.join('\u0000'));
  });
}

// Percentages: a change in points, and no row in the earlier period means no value (not 0).
const RATES = new Set<Metric>(['bounce_rate', 'conversion_rate', 'percentage', 'scroll_depth']);

/** A metric's change against a previous value: percent (one decimal), rates in points. */
export function change(m: Metric, cur: number | null, prev: number | null): number | null {
  if (cur === null || prev === null) return null;
  if (RATES.has(m)) return Math.round((cur - prev) * 10) / 10;
  if (prev === 0) return cur > 0 ? 100 : 0;
  return Math.round(((cur - prev) / prev) * 1000) / 10;
}

/** Validates a Stats API body for the context's site ("all" starts at its first stored event or imported day). */
export function queryFor(ctx: ReportContext, body: Record<string, unknown>): Query {
  return parseQuery(body, ctx.site.timezone, ctx.now, () => (ctx.firstEvent !== undefined ? ctx.firstEvent : firstEventAt(ctx)));
}

/** When the site's data starts in this store: its first event or imported day (null: none). */
export function firstEventAt(ctx: Pick<ReportContext, 'sqlite' | 'site'>): number | null {
  const t = (ctx.sqlite.prepare('SELECT min(ts) AS t FROM events WHERE site_id = ?').get(ctx.site.id) as { t: number | null }).t;
  const span = importedSpan(ctx.sqlite, ctx.site.id);
  const imported = span && dayStart(span.fromDay, ctx.site.timezone);
  return t === null ? imported : imported === null ? t : Math.min(t, imported);
}

/** Runs a Stats API query for a site the caller may read. Throws QueryError for a bad request. */
export function runQuery(ctx: ReportContext, body: Record<string, unknown>): QueryResponse {
  return execute(ctx, queryFor(ctx, body));
}

/**
 * Reads a query's sums from this store (the first half of execute). `complete` for a store that
 * holds part of a site (a shard): see fetchRange.
 */
export function fetchSums(ctx: ReportContext, q: Query, complete = false): QuerySums {
  const used: Used = new Set();
  const imports = importPlan(ctx, q, q.range);
  const main = fetchRange({ ...ctx, imports: imports.window }, q, q.range, used, complete);
  const prev = q.comparison ? fetchRange({ ...ctx, imports: importPlan(ctx, q, q.comparison.range).window }, q, q.comparison.range, used, complete) : null;
  return { main, prev, used: [...used], importsMeta: imports.meta ?? null };
}

export function execute(ctx: ReportContext, q: Query): QueryResponse {
  return finish(ctx.site, q, fetchSums(ctx, q));
}

/** The answer from a query's sums (the second half of execute): k-anonymity, metrics, order, pages, comparison. */
export function finish(site: Pick<Site, 'domain' | 'timezone' | 'minVisitors'>, q: Query, sums: QuerySums): QueryResponse {
  const main = finishRange(site.minVisitors, q, sums.main);
  const time = q.dims.find((d) => 'time' in d) as { bucket: 'hour' | 'day' | 'week' | 'month' } | undefined;
  const timeIdx = q.dims.findIndex((d) => 'time' in d);
  const meta: Record<string, unknown> = {
    time_zone: site.timezone,
    min_visitors: site.minVisitors,
    folded_rows: main.folded,
  };
  if (main.suppressed) meta.suppressed = main.suppressed;
  if (sums.importsMeta) Object.assign(meta, sums.importsMeta);
  if (q.timeLabels && time) meta.time_labels = timeLabels(time.bucket, q.range);
  if (q.totalRows) meta.total_rows = main.rows.length;
  const page = main.rows.slice(q.offset, q.offset + q.limit);
  const results: ResultRow[] = page.map((r) => ({ metrics: r.metrics, dimensions: r.labels }));

  if (q.comparison) {
    const prev = finishRange(site.minVisitors, q, sums.prev!);
    // Time buckets pair up by position (day 1 with day 1); other dimensions by value.
    const mainLabels = time ? timeLabels(time.bucket, q.range) : [];
    const prevLabels = time ? timeLabels(time.bucket, q.comparison.range) : [];
    const keyOf = (labels: string[], list: string[]) => labels.map((l, i) => (i === timeIdx ? String(list.indexOf(l)) : l)).join('\u0000');
    const prevByKey = new Map(prev.rows.map((r) => [keyOf(r.labels, prevLabels), r]));
    page.forEach((r, i) => {
      const p = prevByKey.get(keyOf(r.labels, mainLabels));
      const metrics = p ? p.metrics : q.metrics.map((m) => (p === undefined && !prev.suppressed && !RATES.has(m) ? 0 : null));
      results[i].comparison = {
        dimensions: p ? p.labels : r.labels.map((l, j) => (j === timeIdx ? prevLabels[mainLabels.indexOf(l)] ?? l : l)),
        metrics,
        change: q.metrics.map((m, j) => change(m, r.metrics[j], metrics[j])),
      };
    });
    meta.comparison_date_range = rangeLabel(q.comparison.range);
    if (prev.suppressed) meta.comparison_suppressed = prev.suppressed;
  }
  meta.source = [...sums.used].sort().join('+') || 'none';
  return { results, meta, query: { site_id: site.domain, date_range: rangeLabel(q.range), ...q.echo } };
}
