// The dimensions a report can group or filter by, each mapped to the SQL that computes it. This
// table is the whitelist: no identifier from a request reaches SQL any other way. A dimension is
// read from the event row (`e`, which carries its visit's attributes) or, for entry and exit page,
// from the visit (`v`); `code` is its stable number in the daily rollups (never renumber).
import { QueryError } from './query-error.ts';

export interface Dimension {
  name: string;
  /** Expression over the events row `e` (used for filters, and for grouping unless `visitSql`). */
  eventSql: string;
  /** Expression over the visits row `v`, for attributes only the visit has. */
  visitSql?: string;
  /** Bound parameters of `eventSql` (the JSON path of a custom property). */
  params?: unknown[];
  /** Stable rollup code; absent when the dimension is not rolled up. */
  code?: number;
  kind: 'event' | 'visit' | 'goal';
}

const REFERRER = "CASE WHEN e.referrer_host IS NULL THEN NULL ELSE e.referrer_host || coalesce(e.referrer_path, '') END";

const FIXED: Dimension[] = [
  { name: 'event:page', eventSql: 'e.pathname', code: 1, kind: 'event' },
  { name: 'event:hostname', eventSql: 'e.hostname', code: 2, kind: 'event' },
  { name: 'event:name', eventSql: 'e.name', code: 3, kind: 'event' },
  { name: 'event:status', eventSql: 'e.status', code: 4, kind: 'event' },
  { name: 'visit:entry_page', eventSql: '(SELECT entry_page FROM visits WHERE id = e.visit_id)', visitSql: 'v.entry_page', code: 5, kind: 'visit' },
  { name: 'visit:exit_page', eventSql: '(SELECT exit_page FROM visits WHERE id = e.visit_id)', visitSql: 'v.exit_page', code: 6, kind: 'visit' },
  { name: 'visit:source', eventSql: "coalesce(e.source, 'Direct / None')", code: 7, kind: 'visit' },
  { name: 'visit:channel', eventSql: 'e.channel', code: 8, kind: 'visit' },
  { name: 'visit:referrer', eventSql: REFERRER, code: 9, kind: 'visit' },
  { name: 'visit:utm_source', eventSql: 'e.utm_source', code: 10, kind: 'visit' },
  { name: 'visit:utm_medium', eventSql: 'e.utm_medium', code: 11, kind: 'visit' },
  { name: 'visit:utm_campaign', eventSql: 'e.utm_campaign', code: 12, kind: 'visit' },
  { name: 'visit:utm_content', eventSql: 'e.utm_content', code: 13, kind: 'visit' },
  { name: 'visit:utm_term', eventSql: 'e.utm_term', code: 14, kind: 'visit' },
  { name: 'visit:country', eventSql: 'e.country', code: 15, kind: 'visit' },
  { name: 'visit:browser', eventSql: 'e.browser', code: 16, kind: 'visit' },
  { name: 'visit:browser_version', eventSql: 'e.browser_version', code: 17, kind: 'visit' },
  { name: 'visit:os', eventSql: 'e.os', code: 18, kind: 'visit' },
  { name: 'visit:os_version', eventSql: 'e.os_version', code: 19, kind: 'visit' },
  { name: 'visit:device', eventSql: 'e.device', code: 20, kind: 'visit' },
  { name: 'visit:language', eventSql: 'e.language', code: 21, kind: 'visit' },
  { name: 'visit:screen', eventSql: 'e.screen', code: 22, kind: 'visit' },
];

const BY_NAME = new Map(FIXED.map((d) => [d.name, d]));

/** The dimensions kept in the daily rollups. */
export const ROLLUP_DIMENSIONS = FIXED.filter((d) => d.code !== undefined);

export const TIME_DIMENSIONS = ['time', 'time:hour', 'time:day', 'time:week', 'time:month'] as const;
export type TimeDimension = (typeof TIME_DIMENSIONS)[number];

export const GOAL = 'event:goal';
const PROPS = 'event:props:';
// A property key goes into a JSON path as a bound parameter; quotes and controls would break it.
const PROP_KEY = /^[^"\\\u0000-\u001f]{1,300}$/;

export function isTimeDimension(name: string): name is TimeDimension {
  return (TIME_DIMENSIONS as readonly string[]).includes(name);
}

/** Every dimension name a request may use (custom properties as a pattern). */
export function dimensionNames(): string[] {
  return [...TIME_DIMENSIONS, GOAL, ...BY_NAME.keys(), `${PROPS}<key>`];
}

/** The dimension called `name`, or a QueryError that names `field`. */
export function dimension(name: unknown, field: string): Dimension {
  if (typeof name !== 'string') throw new QueryError(`"${field}": a dimension must be a string`);
  const fixed = BY_NAME.get(name);
  if (fixed) return fixed;
  if (name === GOAL) return { name, eventSql: 'NULL', kind: 'goal' };
  if (name.startsWith(PROPS)) {
    const key = name.slice(PROPS.length);
    if (!PROP_KEY.test(key)) throw new QueryError(`"${field}": invalid custom property name in ${JSON.stringify(name.slice(0, 100))}`);
    return { name, eventSql: 'json_extract(e.props, ?)', params: [`$."${key}"`], kind: 'event' };
  }
  throw new QueryError(`"${field}": unsupported dimension ${JSON.stringify(name.slice(0, 100))} (supported: ${dimensionNames().join(', ')})`);
}
