// A goal as a SQL condition over the events row `e`: its event name, or a page view whose path
// matches the goal's pattern (the same `*`/`**` syntax as excluded paths). Names and paths are
// string ids of the site, matched through the strings table, by the linear-time path_glob SQL
// function (src/reports/sql-functions.ts), never by a regex built from the pattern.
// With a StringMatch (string-match.ts) the paths are matched in JS and bound as a list of ids.
import type { Goal } from '../store/goals.ts';
import { inList, type StringMatch } from './string-match.ts';

export function goalCondition(g: Goal, siteId: number, match?: StringMatch): { sql: string; params: unknown[] } {
  if (g.kind === 'event') return { sql: '(e.name_id IN (SELECT id FROM strings WHERE site_id = ? AND value = ?))', params: [siteId, g.value] };
  if (match) {
    const pages = inList('e.page_id', match.glob(siteId, g.value));
    return { sql: `(e.name_id IN (SELECT id FROM strings WHERE site_id = ? AND value = 'pageview') AND ${pages.sql})`, params: [siteId, pages.param] };
  }
  return {
    sql: `(e.name_id IN (SELECT id FROM strings WHERE site_id = ? AND value = 'pageview')
      AND e.page_id IN (SELECT id FROM strings WHERE site_id = ? AND path_glob(?, value)))`,
    params: [siteId, siteId, g.value],
  };
}
