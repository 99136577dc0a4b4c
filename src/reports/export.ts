// CSV exports: the standard reports (one CSV each, like Plausible's export) and a single
// report for GET /api/v2/export. They run through the report engine, so k-anonymity folds
// small rows into "(other)" exactly as in the API and the dashboard.
import { execute, queryFor, type ReportContext } from './engine.ts';
import { csvLine } from './csv.ts';
import type { Metric } from './metrics.ts';
import { QueryError } from './query-error.ts';

export interface ReportSpec {
  file: string;
  /** CSV header of the dimension column. */
  column: string;
  dimension: string;
  metrics: Metric[];
}

const VISIT: Metric[] = ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'];
const spec = (file: string, column: string, dimension: string, metrics: Metric[] = VISIT): ReportSpec => ({ file, column, dimension, metrics });

export const STANDARD_REPORTS: ReportSpec[] = [
  spec('visitors.csv', 'date', 'time:day', ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration', 'events', 'bytes']),
  spec('pages.csv', 'page', 'event:page', ['visitors', 'visits', 'pageviews', 'time_on_page', 'bytes', 'load_time']),
  spec('entry_pages.csv', 'entry_page', 'visit:entry_page'),
  spec('exit_pages.csv', 'exit_page', 'visit:exit_page'),
  spec('hostnames.csv', 'hostname', 'event:hostname'),
  spec('sources.csv', 'source', 'visit:source'),
  spec('channels.csv', 'channel', 'visit:channel'),
  spec('referrers.csv', 'referrer', 'visit:referrer'),
  spec('utm_sources.csv', 'utm_source', 'visit:utm_source'),
  spec('utm_mediums.csv', 'utm_medium', 'visit:utm_medium'),
  spec('utm_campaigns.csv', 'utm_campaign', 'visit:utm_campaign'),
  spec('utm_contents.csv', 'utm_content', 'visit:utm_content'),
  spec('utm_terms.csv', 'utm_term', 'visit:utm_term'),
  spec('countries.csv', 'country', 'visit:country'),
  spec('browsers.csv', 'browser', 'visit:browser'),
  spec('browser_versions.csv', 'browser_version', 'visit:browser_version'),
  spec('operating_systems.csv', 'operating_system', 'visit:os'),
  spec('os_versions.csv', 'os_version', 'visit:os_version'),
  spec('devices.csv', 'device', 'visit:device'),
  spec('screens.csv', 'screen', 'visit:screen'),
  spec('languages.csv', 'language', 'visit:language'),
  spec('status_codes.csv', 'status', 'event:status', ['visitors', 'events', 'bytes']),
  spec('events.csv', 'name', 'event:name', ['visitors', 'events']),
  spec('conversions.csv', 'goal', 'event:goal', ['visitors', 'events', 'conversion_rate']),
];

// A country's English name as a last column (issue 16), so a spreadsheet needs no ISO table;
// the code stays first, as the Stats API and the dashboard's filters use it. Last, not second:
// the columns before it keep their positions for whatever already reads these files.
const COUNTRY_NAMES = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
const countryName = (v: string | null) => (v && /^[A-Z]{2}$/.test(v) ? COUNTRY_NAMES.of(v) ?? '' : '');

/** The standard report for a dimension, or a generic one (visit metrics) for any other. */
export function reportFor(dimension: string): ReportSpec {
  return STANDARD_REPORTS.find((r) => r.dimension === dimension)
    ?? spec(`${dimension.replace(/[^a-z0-9]+/gi, '_')}.csv`, dimension.split(':').pop()!, dimension, dimension.startsWith('event:') ? ['visitors', 'events'] : VISIT);
}

/**
 * The CSV of one report over `dateRange`, as lines (header first). Every row, not a page: the
 * engine is asked without a row limit.
 */
export function* reportCsv(ctx: ReportContext, r: ReportSpec, dateRange: unknown): Generator<string> {
  const q = queryFor(ctx, { metrics: r.metrics, date_range: dateRange, dimensions: [r.dimension] });
  q.limit = Number.MAX_SAFE_INTEGER;
  const res = execute(ctx, q);
  const named = r.dimension === 'visit:country';
  yield csvLine([r.column, ...r.metrics, ...(named ? ['country_name'] : [])]);
  for (const row of res.results) yield csvLine([row.dimensions[0], ...row.metrics, ...(named ? [countryName(row.dimensions[0])] : [])]);
}

export interface ExportParams {
  dimension?: string;
  /** A period name ("30d") or "from,to". */
  date_range?: string;
}

/** The CSV lines of GET /api/v2/export (throws QueryError for bad parameters). */
export function exportCsv(ctx: ReportContext, params: ExportParams): string[] {
  const raw = params.date_range ?? '30d';
  const parts = raw.split(',');
  if (parts.length > 2) throw new QueryError('"date_range": a period name, or two dates as from,to');
  return [...reportCsv(ctx, reportFor(params.dimension ?? 'time:day'), parts.length === 2 ? parts : raw)];
}
