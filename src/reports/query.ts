// Validates a Stats API v2 request body into a query the engine runs. Anything off the
// whitelist is refused with a QueryError naming the field (HTTP 400).
import { comparisonRange, resolveRange, type ComparisonMode, type Range } from './date-range.ts';
import { dimension, GOAL, PAGE, isTimeDimension, type Dimension, type TimeDimension } from './dimensions.ts';
import { checkFilterShape, hasGoalFilter, parseFilters, type Filter } from './filters.ts';
import { METRICS, type Metric } from './metrics.ts';
import { QueryError, shown } from './query-error.ts';
import { bucketOf, type Bucket } from './time-buckets.ts';

/** One requested dimension, in request order: a time bucket or a grouping dimension. */
export type OutputDim = { time: TimeDimension; bucket: Bucket } | { dim: Dimension };

export interface Query {
  metrics: Metric[];
  range: Range;
  comparison: { mode: ComparisonMode; range: Range } | null;
  dims: OutputDim[];
  filter: Filter | null;
  orderBy: Array<[string, 'asc' | 'desc']>;
  timeLabels: boolean;
  totalRows: boolean;
  /** include.imports: add imported aggregates where they answer (default true; src/reports/imported.ts). */
  imports: boolean;
  limit: number;
  offset: number;
  /** What the response echoes back. */
  echo: Record<string, unknown>;
}

const KEYS = ['site_id', 'metrics', 'date_range', 'dimensions', 'filters', 'order_by', 'include', 'pagination'];
const INCLUDE = ['time_labels', 'total_rows', 'comparison', 'imports'];
const MAX_DIMS = 4;
export const MAX_LIMIT = 10_000;
/** Sort keys: each names a distinct metric or dimension, so more could only repeat one. */
const MAX_ORDER = METRICS.length + MAX_DIMS;
/**
 * Containers nested in one field. The deepest valid body is `filters` at its MAX_DEPTH (8): two
 * lists a level, then clauses, 17 in all. A body nested 50,000 deep failed the structured clone to
 * the reports thread with a RangeError (500) before any check ran.
 */
const MAX_NESTING = 24;
/** Values in the whole body: a valid one at every cap has ~1,700; a 256 KiB body can hold 85k. */
const MAX_VALUES = 5000;

/**
 * Bounds every field's nesting and size and every list's length, with a QueryError naming the
 * field. Cheap and safe on any parsed JSON (iterative, stops at the first cap), so the main thread
 * runs it before posting a body to the reports thread; parseQuery runs it first too.
 */
export function checkQueryShape(body: Record<string, unknown>): void {
  for (const k of Object.keys(body)) {
    if (!KEYS.includes(k)) throw new QueryError(`unknown field ${JSON.stringify(k.slice(0, 60))} (fields: ${KEYS.join(', ')})`);
  }
  checkFilterShape(body.filters);
  const list = (k: string, max: number) => {
    const v = body[k];
    if (Array.isArray(v) && v.length > max) throw new QueryError(`"${k}": at most ${max} items, got ${v.length}`);
  };
  list('metrics', METRICS.length);
  list('dimensions', MAX_DIMS);
  list('order_by', MAX_ORDER);
  list('date_range', 2);
  let values = 0;
  for (const k of KEYS) {
    const stack: Array<[unknown, number]> = [[body[k], 0]];
    while (stack.length) {
      const [v, depth] = stack.pop()!;
      if (++values > MAX_VALUES) throw new QueryError(`"${k}": the request holds more than ${MAX_VALUES} values`);
      if (typeof v !== 'object' || v === null) continue;
      if (depth >= MAX_NESTING) throw new QueryError(`"${k}": nested deeper than ${MAX_NESTING} levels`);
      for (const c of Array.isArray(v) ? v : Object.values(v)) stack.push([c, depth + 1]);
    }
  }
  for (const [k, allowed] of [['include', INCLUDE], ['pagination', ['limit', 'offset']]] as const) {
    const v = body[k];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) continue; // parse* explains
    const extra = Object.keys(v).find((x) => !(allowed as readonly string[]).includes(x));
    if (extra !== undefined) throw new QueryError(`"${k}": unknown option ${JSON.stringify(extra.slice(0, 60))} (supported: ${allowed.join(', ')})`);
  }
}

function parseMetrics(raw: unknown): Metric[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new QueryError('"metrics" must be a non-empty list');
  for (const m of raw) {
    if (!(METRICS as readonly unknown[]).includes(m)) {
      throw new QueryError(`"metrics": unsupported metric ${shown(m)} (supported: ${METRICS.join(', ')})`);
    }
  }
  if (new Set(raw).size !== raw.length) throw new QueryError('"metrics": a metric is listed twice');
  return raw as Metric[];
}

function parseDims(raw: unknown, range: Range): OutputDim[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > MAX_DIMS) throw new QueryError(`"dimensions" must be a list of at most ${MAX_DIMS} dimensions`);
  if (new Set(raw).size !== raw.length) throw new QueryError('"dimensions": a dimension is listed twice');
  const out = raw.map((d, i): OutputDim => {
    if (typeof d === 'string' && isTimeDimension(d)) return { time: d, bucket: bucketOf(d, range) };
    return { dim: dimension(d, `dimensions[${i}]`) };
  });
  if (out.filter((d) => 'time' in d).length > 1) throw new QueryError('"dimensions": at most one time dimension');
  return out;
}

function parseInclude(raw: unknown): { timeLabels: boolean; totalRows: boolean; imports: boolean; comparison: ComparisonMode | null } {
  if (raw === undefined) return { timeLabels: false, totalRows: false, imports: true, comparison: null };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new QueryError('"include" must be an object');
  const inc = raw as Record<string, unknown>;
  for (const k of Object.keys(inc)) {
    if (!INCLUDE.includes(k)) throw new QueryError(`"include": unknown option ${JSON.stringify(k.slice(0, 60))} (supported: ${INCLUDE.join(', ')})`);
  }
  for (const k of ['time_labels', 'total_rows', 'imports']) {
    if (inc[k] !== undefined && typeof inc[k] !== 'boolean') throw new QueryError(`"include.${k}" must be true or false`);
  }
  const c = inc.comparison;
  if (c !== undefined && c !== null && c !== 'previous_period' && c !== 'year_over_year') {
    throw new QueryError('"include.comparison" must be "previous_period" or "year_over_year"');
  }
  return { timeLabels: inc.time_labels === true, totalRows: inc.total_rows === true, imports: inc.imports !== false, comparison: (c as ComparisonMode) ?? null };
}

function parsePagination(raw: unknown): { limit: number; offset: number } {
  if (raw === undefined) return { limit: MAX_LIMIT, offset: 0 };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new QueryError('"pagination" must be {"limit": n, "offset": n}');
  const p = raw as Record<string, unknown>;
  const limit = p.limit ?? MAX_LIMIT;
  const offset = p.offset ?? 0;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_LIMIT) throw new QueryError(`"pagination.limit" must be a whole number from 1 to ${MAX_LIMIT}`);
  if (!Number.isInteger(offset) || (offset as number) < 0) throw new QueryError('"pagination.offset" must be a whole number ≥ 0');
  return { limit: limit as number, offset: offset as number };
}

/** True when one of the request's top-level filters (its implicit "and") is on `event:page`. */
function hasTopLevelPageFilter(f: Filter | null): boolean {
  return f !== null && f.op === 'and' && f.children.some((c) => 'dim' in c && c.dim.name === PAGE);
}

export const dimName = (d: OutputDim) => ('time' in d ? d.time : d.dim.name);

function parseOrder(raw: unknown, metrics: Metric[], dims: OutputDim[]): Array<[string, 'asc' | 'desc']> {
  const names = dims.map(dimName);
  if (raw === undefined) {
    const time = dims.find((d) => 'time' in d);
    return [...(time ? [[dimName(time), 'asc'] as [string, 'asc']] : []), [metrics[0], 'desc']];
  }
  if (!Array.isArray(raw) || raw.length === 0) throw new QueryError('"order_by" must be a non-empty list of [metric or dimension, "asc"|"desc"]');
  return raw.map((o, i) => {
    if (!Array.isArray(o) || o.length !== 2 || (o[1] !== 'asc' && o[1] !== 'desc')) {
      throw new QueryError(`"order_by[${i}]" must be [metric or dimension, "asc"|"desc"]`);
    }
    if (!(metrics as string[]).includes(o[0]) && !names.includes(o[0])) {
      throw new QueryError(`"order_by[${i}]": ${shown(o[0])} is not among the query's metrics or dimensions`);
    }
    return [o[0], o[1]] as [string, 'asc' | 'desc'];
  });
}

export function parseQuery(body: Record<string, unknown>, tz: string, now: number, firstEvent: () => number | null): Query {
  checkQueryShape(body);
  const metrics = parseMetrics(body.metrics);
  if (body.date_range === undefined) throw new QueryError('"date_range" is required');
  const range = resolveRange(body.date_range, tz, now, firstEvent);
  const dims = parseDims(body.dimensions, range);
  const filter = parseFilters(body.filters);
  const include = parseInclude(body.include);
  const page = parsePagination(body.pagination);
  const orderBy = parseOrder(body.order_by, metrics, dims);
  if (metrics.includes('percentage') && !dims.some((d) => 'dim' in d)) {
    throw new QueryError('"metrics": percentage needs a non-time dimension');
  }
  if (metrics.includes('conversion_rate') && !dims.some((d) => 'dim' in d && d.dim.name === GOAL) && !hasGoalFilter(filter)) {
    throw new QueryError(`"metrics": conversion_rate needs an ${GOAL} filter or dimension`);
  }
  // Plausible's rule: scroll depth is a page's metric, so the query names pages — by dimension or
  // a top-level filter (one inside "or"/"not" does not count).
  if (metrics.includes('scroll_depth') && !dims.some((d) => 'dim' in d && d.dim.name === PAGE) && !hasTopLevelPageFilter(filter)) {
    throw new QueryError(`"metrics": scroll_depth needs an ${PAGE} filter or dimension`);
  }
  if (include.timeLabels && !dims.some((d) => 'time' in d)) throw new QueryError('"include.time_labels" needs a time dimension');
  return {
    metrics, range, dims, filter, orderBy, ...page,
    comparison: include.comparison ? { mode: include.comparison, range: comparisonRange(range, include.comparison) } : null,
    timeLabels: include.timeLabels,
    totalRows: include.totalRows,
    imports: include.imports,
    echo: {
      metrics,
      dimensions: dims.map(dimName),
      filters: body.filters ?? [],
      order_by: orderBy,
      include: body.include ?? {},
      pagination: page,
    },
  };
}
