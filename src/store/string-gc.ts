// Deleting dictionary values no row refers to any more: after retention deletes old events and
// visits, their page paths, referrers, … would otherwise outlive them. Mark and sweep: one pass
// over the site's events collects the ids in use and the visits they belong to, those visits are
// read by id, then the rest are deleted. Visits have no index by site (migration 0016), and a
// visit is only ever reached through its events (reports, funnels, the writer's open visits), so
// a visit row none of the site's events points to does not keep a value alive.
import type { SqlConnection } from './sql.ts';

const EVENT_REFS = ['name_id', 'host_id', 'page_id'];
const VISIT_REFS = [
  'entry_page_id', 'exit_page_id', 'host_id', 'referrer_id', 'source_id', 'channel_id', 'utm_source_id', 'utm_medium_id',
  'utm_campaign_id', 'utm_content_id', 'utm_term_id', 'country_id', 'browser_id', 'browser_version_id', 'os_id',
  'os_version_id', 'device_id', 'language_id', 'screen_id',
];

/** Deletes the site's strings that no event or visit refers to; returns how many. */
export function deleteUnusedStrings(sqlite: SqlConnection, siteId: number): number {
  const used = new Set<number>();
  const visits = new Set<number>();
  for (const row of sqlite.prepare(`SELECT visit_id, ${EVENT_REFS.join(', ')} FROM events WHERE site_id = ?`).raw(true).iterate(siteId)) {
    const r = row as Array<number | null>;
    visits.add(r[0]!);
    for (let i = 1; i < r.length; i++) if (r[i] !== null) used.add(r[i]!);
  }
  // By id in ascending order: a rowid seek each (json_each keeps the list out of the SQL text).
  const ids = JSON.stringify([...visits].sort((a, b) => a - b));
  for (const row of sqlite.prepare(`SELECT ${VISIT_REFS.map((c) => `v.${c}`).join(', ')} FROM json_each(?) j JOIN visits v ON v.id = j.value`)
    .raw(true).iterate(ids)) {
    for (const id of row as Array<number | null>) if (id !== null) used.add(id);
  }
  const unused = (sqlite.prepare('SELECT id FROM strings WHERE site_id = ?').pluck().all(siteId) as number[]).filter((id) => !used.has(id));
  const del = sqlite.prepare('DELETE FROM strings WHERE id = ?');
  sqlite.transaction(() => { for (const id of unused) del.run(id); })();
  return unused.length;
}
