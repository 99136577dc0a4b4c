// Deleting dictionary values no row refers to any more: after retention deletes old events and
// visits, their page paths, referrers, … would otherwise outlive them. Mark and sweep: one pass
// over the site's events and visits collects the ids in use, then the rest are deleted.
import type { SqlConnection, SqlStatement } from './sql.ts';

const EVENT_REFS = ['name_id', 'host_id', 'page_id'];
const VISIT_REFS = [
  'entry_page_id', 'exit_page_id', 'host_id', 'referrer_id', 'source_id', 'channel_id', 'utm_source_id', 'utm_medium_id',
  'utm_campaign_id', 'utm_content_id', 'utm_term_id', 'country_id', 'browser_id', 'browser_version_id', 'os_id',
  'os_version_id', 'device_id', 'language_id', 'screen_id',
];

/** Deletes the site's strings that no event or visit refers to; returns how many. */
export function deleteUnusedStrings(sqlite: SqlConnection, siteId: number): number {
  const used = new Set<number>();
  for (const [table, cols] of [['events', EVENT_REFS], ['visits', VISIT_REFS]] as const) {
    for (const row of sqlite.prepare(`SELECT ${cols.join(', ')} FROM ${table} WHERE site_id = ?`).raw(true).iterate(siteId)) {
      for (const id of row as Array<number | null>) if (id !== null) used.add(id);
    }
  }
  const unused = (sqlite.prepare('SELECT id FROM strings WHERE site_id = ?').pluck().all(siteId) as number[]).filter((id) => !used.has(id));
  const del = sqlite.prepare('DELETE FROM strings WHERE id = ?');
  sqlite.transaction(() => { for (const id of unused) del.run(id); })();
  return unused.length;
}
