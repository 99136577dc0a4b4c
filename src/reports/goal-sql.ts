// A goal as a SQL condition over the events row `e`: its event name, or a page view whose path
// matches the goal's pattern (the same `*`/`**` syntax as excluded paths).
import type { Goal } from '../store/goals.ts';
import { pathMatcher } from '../store/sites.ts';

export function goalCondition(g: Goal): { sql: string; params: unknown[] } {
  if (g.kind === 'event') return { sql: '(e.name = ?)', params: [g.value] };
  return { sql: "(e.name = 'pageview' AND regexp(?, e.pathname))", params: [pathMatcher(g.value)!.source] };
}
