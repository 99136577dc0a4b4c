// Metrics: what a report row counts. Every source (rollups, raw events) returns the same twelve
// additive base sums per local day; each public metric is derived from them, so adding days,
// folding small rows into "(other)" and comparing periods are all plain sums.

/** Additive sums per local day. Distinct counts (visitors, visits) are per day, then summed. */
export const BASE = [
  'visitors', 'visits', 'pageviews', 'events', 'bounces', 'duration_ms', 'visit_pageviews', 'bytes',
  'load_ms', 'load_n', 'engaged_ms', 'engaged_visits',
] as const;
export type Base = number[];
export const B = Object.fromEntries(BASE.map((k, i) => [k, i])) as Record<(typeof BASE)[number], number>;

/**
 * Scroll depth's two sums, after the twelve and only when a read asks for them (ReportContext
 * `scroll`): the sum over visits of each visit's deepest scroll on the row's page(s), and the
 * number of those visits. The raw SQL (raw-source.ts), the JS aggregation (aggregate.ts), day
 * segments (segment-aggregate.ts) and the rollups' page rows (rollups.ts, outside BASE: their own
 * columns) count them alike; imports do not have them, and rows from there lack the two slots.
 */
export const SCROLL_SUM = BASE.length, SCROLL_N = BASE.length + 1;

export const zero = (): Base => new Array(BASE.length).fill(0);

/** Adds `from` into `into`; either may have the two scroll slots or not. */
export function addInto(into: Base, from: Base): void {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + from[i];
}

export const METRICS = [
  'visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration', 'events',
  'time_on_page', 'percentage', 'conversion_rate', 'bytes', 'load_time', 'scroll_depth',
] as const;
export type Metric = (typeof METRICS)[number];

export interface Totals {
  /** Visitors of the whole query (filters applied, no dimensions): the base of `percentage`. */
  visitors: number;
  /** Visitors without the goal filters: the base of `conversion_rate`. */
  convBase: number;
}

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const ratio = (a: number, b: number, digits: number, scale = 1) => (b > 0 ? round((a / b) * scale, digits) : null);

/** a / b to a whole number, ties to even (ClickHouse's round() on floats, which Plausible's scroll_depth uses). */
function roundHalfEven(a: number, b: number): number {
  const q = Math.floor(a / b), r2 = 2 * (a - q * b);
  return r2 > b || (r2 === b && q % 2 !== 0) ? q + 1 : q;
}

/** A public metric from a row's base sums. Rates are null where their divisor is zero. */
export function derive(m: Metric, b: Base, totals: Totals): number | null {
  switch (m) {
    case 'visitors': return b[B.visitors];
    case 'visits': return b[B.visits];
    case 'pageviews': return b[B.pageviews];
    case 'events': return b[B.events];
    case 'bytes': return b[B.bytes];
    case 'views_per_visit': return ratio(b[B.visit_pageviews], b[B.visits], 2) ?? 0;
    case 'bounce_rate': return ratio(b[B.bounces], b[B.visits], 1, 100) ?? 0;
    case 'visit_duration': return ratio(b[B.duration_ms], b[B.visits], 0, 1 / 1000) ?? 0;
    case 'time_on_page': return ratio(b[B.engaged_ms], b[B.engaged_visits], 0, 1 / 1000);
    case 'load_time': return ratio(b[B.load_ms], b[B.load_n], 0);
    case 'percentage': return ratio(b[B.visitors], totals.visitors, 1, 100) ?? 0;
    case 'conversion_rate': return ratio(b[B.visitors], totals.convBase, 1, 100) ?? 0;
    // Plausible's: the mean of each visit's deepest scroll, rounded to a whole percent; null
    // without any engagement report that carried one.
    case 'scroll_depth': return b[SCROLL_N] ? roundHalfEven(b[SCROLL_SUM], b[SCROLL_N]) : null;
  }
}

/** The base sums a set of metrics reads (visitors and events always: k-anonymity and empty rows). */
export function baseColumns(metrics: readonly Metric[]): number[] {
  const cols = new Set<number>([B.visitors, B.events]);
  const add = (...names: Array<(typeof BASE)[number]>) => names.forEach((n) => cols.add(B[n]));
  for (const m of metrics) {
    switch (m) {
      case 'visits': add('visits'); break;
      case 'pageviews': add('pageviews'); break;
      case 'bytes': add('bytes'); break;
      case 'views_per_visit': add('visit_pageviews', 'visits'); break;
      case 'bounce_rate': add('bounces', 'visits'); break;
      case 'visit_duration': add('duration_ms', 'visits'); break;
      case 'time_on_page': add('engaged_ms', 'engaged_visits'); break;
      case 'load_time': add('load_ms', 'load_n'); break;
      default: break; // visitors, events, percentage, conversion_rate
    }
  }
  return [...cols].sort((a, b) => a - b);
}
