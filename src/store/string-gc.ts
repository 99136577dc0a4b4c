// Deleting dictionary values no row refers to any more: after retention deletes old events and
// visits, their page paths, referrers, … would otherwise outlive them. Mark and sweep: one pass
// over the site's events collects the ids in use and the visits they belong to, those visits are
// read by id, their platform and acquisition rows are kept (the others deleted) and their values
// marked, then the rest are deleted. Visits have no index by site (migration 0016), and a visit is
// only ever reached through its events (reports, funnels, the writer's open visits), so a visit
// row none of the site's events points to does not keep a value alive.
import type { SqlConnection } from './sql.ts';
import { ACQUISITION_COLS, PLATFORM_COLS } from './visit-profiles.ts';

const EVENT_REFS = ['name_id', 'host_id', 'page_id'];
const VISIT_REFS = ['entry_page_id', 'exit_page_id', 'referrer_id', 'country_id', 'language_id'];

/**
 * Deletes the site's strings that no event or visit refers to, and its platform and acquisition
 * rows no visit refers to; returns how many rows went (the writer must then forget cached ids).
 */
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
  const platforms = new Set<number>(), acquisitions = new Set<number>();
  for (const row of sqlite.prepare(`SELECT v.platform_id, v.acquisition_id, ${VISIT_REFS.map((c) => `v.${c}`).join(', ')}
    FROM json_each(?) j JOIN visits v ON v.id = j.value`).raw(true).iterate(ids)) {
    const r = row as Array<number | null>;
    platforms.add(r[0]!);
    acquisitions.add(r[1]!);
    for (let i = 2; i < r.length; i++) if (r[i] !== null) used.add(r[i]!);
  }
  let deleted = 0;
  for (const [table, cols, keep] of [['platforms', PLATFORM_COLS, platforms], ['acquisitions', ACQUISITION_COLS, acquisitions]] as const) {
    const gone: number[] = [];
    for (const row of sqlite.prepare(`SELECT id, ${cols.join(', ')} FROM ${table} WHERE site_id = ?`).raw(true).iterate(siteId)) {
      const r = row as Array<number | null>;
      if (!keep.has(r[0]!)) gone.push(r[0]!);
      else for (let i = 1; i < r.length; i++) if (r[i] !== null) used.add(r[i]!);
    }
    const del = sqlite.prepare(`DELETE FROM ${table} WHERE id = ?`);
    sqlite.transaction(() => { for (const id of gone) del.run(id); })();
    deleted += gone.length;
  }
  const unused = (sqlite.prepare('SELECT id FROM strings WHERE site_id = ?').pluck().all(siteId) as number[]).filter((id) => !used.has(id));
  const del = sqlite.prepare('DELETE FROM strings WHERE id = ?');
  sqlite.transaction(() => { for (const id of unused) del.run(id); })();
  return deleted + unused.length;
}
