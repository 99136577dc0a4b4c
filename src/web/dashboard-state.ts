// The dashboard's state lives in its URL, so a view can be bookmarked and shared: the period
// (`period=30d`, or `from`/`to` dates), the comparison (`compare=previous_period`) and filters
// (`f=visit:country:DE`, repeatable). This module parses it, turns it into Stats API queries and
// back into links that change one thing.
import { TIME_DIMENSIONS } from '../reports/dimensions.ts';

export const PERIODS: Array<[string, string]> = [
  ['day', 'Today'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['month', 'This month'], ['12mo', 'Last 12 months'],
];

export interface DashboardState {
  period: string;
  from: string | null;
  to: string | null;
  compare: boolean;
  /** [dimension, value] pairs, each an `is` filter. */
  filters: Array<[string, string]>;
  /** The funnel the funnel panel shows (`funnel=<name>`); the site's first when absent. */
  funnel?: string | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const FILTERABLE = /^(event|visit):[a-z_]+(:.+)?$/;

export function parseState(url: URL): DashboardState {
  const q = url.searchParams;
  const from = q.get('from'), to = q.get('to');
  const custom = from !== null && to !== null && DATE.test(from) && DATE.test(to);
  const period = custom ? 'custom' : PERIODS.some(([p]) => p === q.get('period')) ? q.get('period')! : '30d';
  const filters: Array<[string, string]> = [];
  for (const f of q.getAll('f').slice(0, 10)) {
    // dimension names contain one or two colons (event:props:plan); the value follows the last
    // colon of the dimension part, so split on the first colon after "event:"/"visit:" + name.
    const m = /^((?:event|visit):(?:props:[^:]+|[a-z_]+)):(.*)$/s.exec(f);
    if (m && FILTERABLE.test(m[1]) && !(TIME_DIMENSIONS as readonly string[]).includes(m[1])) filters.push([m[1], m[2]]);
  }
  const funnel = q.get('funnel');
  return { period, from: custom ? from : null, to: custom ? to : null, compare: q.get('compare') === 'previous_period', filters,
    funnel: funnel && funnel.length <= 120 ? funnel : null };
}

/** The query string of a state. */
export function stateQuery(s: DashboardState): string {
  const q = new URLSearchParams();
  if (s.period === 'custom' && s.from && s.to) {
    q.set('from', s.from);
    q.set('to', s.to);
  } else if (s.period !== '30d') q.set('period', s.period);
  if (s.compare) q.set('compare', 'previous_period');
  for (const [d, v] of s.filters) q.append('f', `${d}:${v}`);
  if (s.funnel) q.set('funnel', s.funnel);
  const str = q.toString();
  return str ? `?${str}` : '';
}

export const withFilter = (s: DashboardState, dim: string, value: string): DashboardState =>
  ({ ...s, filters: [...s.filters.filter(([d]) => d !== dim), [dim, value]] });
export const withoutFilter = (s: DashboardState, i: number): DashboardState => ({ ...s, filters: s.filters.filter((_, j) => j !== i) });

/** The Stats API pieces of a state: date_range and filters. */
export function queryBase(s: DashboardState): { date_range: unknown; filters: unknown[] } {
  return {
    date_range: s.period === 'custom' ? [s.from, s.to] : s.period,
    filters: s.filters.map(([d, v]) => ['is', d, [v]]),
  };
}
