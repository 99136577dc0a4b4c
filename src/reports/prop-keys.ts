// The custom property keys an event carries within a period, for the dashboard's property
// panels. Read through the (site_id, ts) index, only when the dashboard is filtered by an event
// name (a rare, deliberate click), and capped at 10 keys.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import { resolveRange } from './date-range.ts';
import type { Site } from '../store/sites.ts';

export function propKeys(sqlite: SqlConnection, site: Pick<Site, 'id' | 'timezone'>, eventName: string, dateRange: unknown, now: number): string[] {
  let range;
  try {
    range = resolveRange(dateRange, site.timezone, now, () => null);
  } catch {
    return [];
  }
  return sqlite.prepare(`SELECT DISTINCT j.key FROM events e, json_each(e.props) j
    WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ? AND e.props IS NOT NULL
      AND e.name_id IN (SELECT id FROM strings WHERE site_id = ? AND value = ?)
    ORDER BY j.key LIMIT 10`).pluck().all(site.id, range.start, range.end, site.id, eventName) as string[];
}
