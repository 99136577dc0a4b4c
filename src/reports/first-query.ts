// The first slice of the Stats API v2 (POST /api/v2/query): visitors and pageviews for today in
// the site's time zone, optionally by page or country. Rows describing fewer than the site's
// k visitors fold into "(other)". Identifiers come from a whitelist; values are bound parameters.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import type { Site } from '../store/sites.ts';
import { localDay } from './time-zone.ts';

const METRICS = ['visitors', 'pageviews'] as const;
type Metric = (typeof METRICS)[number];

const DIMENSIONS: Record<string, SQL> = {
  'event:page': sql.raw('pathname'),
  'visit:country': sql.raw('country'),
};

export class QueryError extends Error {}

export interface QueryBody {
  site_id?: unknown;
  metrics?: unknown;
  date_range?: unknown;
  dimensions?: unknown;
}

export interface QueryResponse {
  results: Array<{ metrics: number[]; dimensions: string[] }>;
  meta: Record<string, unknown>;
  query: Record<string, unknown>;
}

export const OTHER = '(other)';

function validate(body: QueryBody): { metrics: Metric[]; dimension: string | null } {
  if (!Array.isArray(body.metrics) || body.metrics.length === 0) throw new QueryError('"metrics" must be a non-empty list');
  for (const m of body.metrics) {
    if (!METRICS.includes(m)) throw new QueryError(`"metrics": unsupported metric ${JSON.stringify(m)} (supported: ${METRICS.join(', ')})`);
  }
  if (body.date_range !== 'day') throw new QueryError('"date_range": only "day" is supported so far');
  const dims = body.dimensions ?? [];
  if (!Array.isArray(dims) || dims.length > 1) throw new QueryError('"dimensions" must be a list of at most one dimension');
  const dimension = (dims[0] as string | undefined) ?? null;
  if (dimension !== null && !(dimension in DIMENSIONS)) {
    throw new QueryError(`"dimensions": unsupported dimension ${JSON.stringify(dimension)} (supported: ${Object.keys(DIMENSIONS).join(', ')})`);
  }
  return { metrics: body.metrics as Metric[], dimension };
}

/** Runs the query for a site the caller is already authorised for. */
export function runFirstQuery(db: Db, site: Site, body: QueryBody, now = Date.now()): QueryResponse {
  const { metrics, dimension } = validate(body);
  const day = localDay(now, site.timezone);
  const group = dimension ? DIMENSIONS[dimension] : null;
  const rows = db.all<{ dim: string | null; visitors: number; pageviews: number }>(sql`
    SELECT ${group ?? sql`NULL`} AS dim,
           count(DISTINCT visitor_id) AS visitors,
           sum(name = 'pageview') AS pageviews
    FROM events
    WHERE site_id = ${site.id} AND ts >= ${day.start} AND ts < ${day.end} AND name != 'engagement'
    ${group ? sql`GROUP BY ${group}` : sql``}
    ORDER BY visitors DESC, dim`);

  const k = site.minVisitors;
  const kept: typeof rows = [];
  const other = { dim: OTHER, visitors: 0, pageviews: 0 };
  let folded = 0;
  for (const r of rows) {
    if (group && r.visitors < k) {
      other.visitors += r.visitors;
      other.pageviews += r.pageviews;
      folded++;
    } else kept.push(r);
  }
  if (folded > 0) kept.push(other);
  const pick = (r: { visitors: number; pageviews: number }) => metrics.map((m) => Number(r[m] ?? 0));
  return {
    results: group
      ? kept.map((r) => ({ metrics: pick(r), dimensions: [r.dim ?? '(none)'] }))
      : [{ metrics: pick(rows[0] ?? { visitors: 0, pageviews: 0 }), dimensions: [] }],
    meta: { time_zone: site.timezone, min_visitors: k, folded_rows: folded },
    query: {
      site_id: site.domain,
      metrics,
      date_range: [new Date(day.start).toISOString(), new Date(day.end - 1).toISOString()],
      dimensions: dimension ? [dimension] : [],
    },
  };
}
