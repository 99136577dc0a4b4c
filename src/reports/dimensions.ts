// The dimensions a report can group or filter by, each mapped to the SQL that computes it. This
// table is the whitelist: no identifier from a request reaches SQL any other way. An event
// dimension is read from the event row (`e`), a visit dimension from its visit (`v`, joined on
// the event's visit_id); `code` is its stable number in the daily rollups (never renumber).
import { QueryError } from './query-error.ts';

export interface Dimension {
  name: string;
  /** Expression over the event row `e` and its visit `v`. */
  sql: string;
  /** Bound parameters of `sql` (the JSON path of a custom property). */
  params?: unknown[];
  /** Stable rollup code; absent when the dimension is not rolled up. */
  code?: number;
  kind: 'event' | 'visit' | 'goal';
}

const REFERRER = "CASE WHEN v.referrer_host IS NULL THEN NULL ELSE v.referrer_host || coalesce(v.referrer_path, '') END";

const FIXED: Dimension[] = [
  { name: 'event:page', sql: 'e.pathname', code: 1, kind: 'event' },
  { name: 'event:hostname', sql: 'e.hostname', code: 2, kind: 'event' },
  { name: 'event:name', sql: 'e.name', code: 3, kind: 'event' },
  { name: 'event:status', sql: 'e.status', code: 4, kind: 'event' },
  { name: 'visit:entry_page', sql: 'v.entry_page', code: 5, kind: 'visit' },
  { name: 'visit:exit_page', sql: 'v.exit_page', code: 6, kind: 'visit' },
  // A request outside any visit (vid 0) has no source at all rather than "Direct / None".
  { name: 'visit:source', sql: "CASE WHEN v.id IS NULL THEN NULL ELSE coalesce(v.source, 'Direct / None') END", code: 7, kind: 'visit' },
  { name: 'visit:channel', sql: 'v.channel', code: 8, kind: 'visit' },
  { name: 'visit:referrer', sql: REFERRER, code: 9, kind: 'visit' },
  { name: 'visit:utm_source', sql: 'v.utm_source', code: 10, kind: 'visit' },
  { name: 'visit:utm_medium', sql: 'v.utm_medium', code: 11, kind: 'visit' },
  { name: 'visit:utm_campaign', sql: 'v.utm_campaign', code: 12, kind: 'visit' },
  { name: 'visit:utm_content', sql: 'v.utm_content', code: 13, kind: 'visit' },
  { name: 'visit:utm_term', sql: 'v.utm_term', code: 14, kind: 'visit' },
  { name: 'visit:country', sql: 'v.country', code: 15, kind: 'visit' },
  { name: 'visit:browser', sql: 'v.browser', code: 16, kind: 'visit' },
  { name: 'visit:browser_version', sql: 'v.browser_version', code: 17, kind: 'visit' },
  { name: 'visit:os', sql: 'v.os', code: 18, kind: 'visit' },
  { name: 'visit:os_version', sql: 'v.os_version', code: 19, kind: 'visit' },
  { name: 'visit:device', sql: 'v.device', code: 20, kind: 'visit' },
  { name: 'visit:language', sql: 'v.language', code: 21, kind: 'visit' },
  { name: 'visit:screen', sql: 'v.screen', code: 22, kind: 'visit' },
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
  if (name === GOAL) return { name, sql: 'NULL', kind: 'goal' };
  if (name.startsWith(PROPS)) {
    const key = name.slice(PROPS.length);
    if (!PROP_KEY.test(key)) throw new QueryError(`"${field}": invalid custom property name in ${JSON.stringify(name.slice(0, 100))}`);
    return { name, sql: 'json_extract(e.props, ?)', params: [`$."${key}"`], kind: 'event' };
  }
  throw new QueryError(`"${field}": unsupported dimension ${JSON.stringify(name.slice(0, 100))} (supported: ${dimensionNames().join(', ')})`);
}
