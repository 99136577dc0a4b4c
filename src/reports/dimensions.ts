// The dimensions a report can group or filter by, each mapped to the SQL that computes it. This
// table is the whitelist: no identifier from a request reaches SQL any other way. An event
// dimension is read from the event row (`e`), a visit dimension from its visit (`v`, joined on
// the event's visit_id, with VISIT_JOINS); `code` is its stable number in the daily rollups (never renumber).
import { QueryError } from './query-error.ts';

export interface Dimension {
  name: string;
  /** Expression over the event row `e`, its visit `v` and the visit's `vp`/`va` rows (VISIT_JOINS). */
  sql: string;
  /** Bound parameters of `sql` (the JSON path of a custom property). */
  params?: unknown[];
  /** The expression yields a string id (decoded to text for the answer; filters match text). */
  text?: boolean;
  /** The label of id 0, a value the expression makes up rather than stores. */
  zero?: string;
  /** Stable rollup code; absent when the dimension is not rolled up. */
  code?: number;
  kind: 'event' | 'visit' | 'goal';
}

const PLATFORM_JOIN = 'LEFT JOIN platforms vp ON vp.id = v.platform_id';
const ACQUISITION_JOIN = 'LEFT JOIN acquisitions va ON va.id = v.acquisition_id';
/**
 * A visit's platform (`vp`: browser, OS, versions, device, screen) and acquisition (`va`: source,
 * channel, UTM tags) are rows of their own (migration 0017): a query that reads visit dimensions
 * joins them after `visits v`.
 */
export const VISIT_JOINS = `${PLATFORM_JOIN} ${ACQUISITION_JOIN}`;

/**
 * The joins of VISIT_JOINS that `sql` (the query's columns and conditions) reads. SQLite leaves an
 * unused LEFT JOIN out only in a query without aggregates: with GROUP BY it looks both rows up for
 * every event (+10% CPU on the 1M bench's raw page report before this).
 */
export function visitJoins(sql: string): string {
  return `${sql.includes('vp.') ? PLATFORM_JOIN : ''} ${sql.includes('va.') ? ACQUISITION_JOIN : ''}`;
}

const ev = (name: string, col: string, code: number): Dimension => ({ name, sql: `e.${col}`, text: true, code, kind: 'event' });
const vi = (name: string, col: string, code: number, table = 'v'): Dimension => ({ name, sql: `${table}.${col}`, text: true, code, kind: 'visit' });

const FIXED: Dimension[] = [
  ev('event:page', 'page_id', 1),
  ev('event:hostname', 'host_id', 2),
  ev('event:name', 'name_id', 3),
  { name: 'event:status', sql: 'e.status', code: 4, kind: 'event' },
  vi('visit:entry_page', 'entry_page_id', 5),
  vi('visit:exit_page', 'exit_page_id', 6),
  // A visit without a source is direct; a request outside any visit (no v) has none at all.
  { name: 'visit:source', sql: 'CASE WHEN v.id IS NULL THEN NULL ELSE coalesce(va.source_id, 0) END', text: true, zero: 'Direct / None', code: 7, kind: 'visit' },
  vi('visit:channel', 'channel_id', 8, 'va'),
  vi('visit:referrer', 'referrer_id', 9),
  vi('visit:utm_source', 'utm_source_id', 10, 'va'),
  vi('visit:utm_medium', 'utm_medium_id', 11, 'va'),
  vi('visit:utm_campaign', 'utm_campaign_id', 12, 'va'),
  vi('visit:utm_content', 'utm_content_id', 13, 'va'),
  vi('visit:utm_term', 'utm_term_id', 14, 'va'),
  vi('visit:country', 'country_id', 15),
  vi('visit:browser', 'browser_id', 16, 'vp'),
  vi('visit:browser_version', 'browser_version_id', 17, 'vp'),
  vi('visit:os', 'os_id', 18, 'vp'),
  vi('visit:os_version', 'os_version_id', 19, 'vp'),
  vi('visit:device', 'device_id', 20, 'vp'),
  vi('visit:language', 'language_id', 21),
  vi('visit:screen', 'screen_id', 22, 'vp'),
];

const BY_NAME = new Map(FIXED.map((d) => [d.name, d]));

/** The dimensions kept in the daily rollups. */
export const ROLLUP_DIMENSIONS = FIXED.filter((d) => d.code !== undefined);

export const TIME_DIMENSIONS = ['time', 'time:hour', 'time:day', 'time:week', 'time:month'] as const;
export type TimeDimension = (typeof TIME_DIMENSIONS)[number];

export const GOAL = 'event:goal';
export const PAGE = 'event:page';
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
