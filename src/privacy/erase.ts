// Removing a site: every row of it (events, visits, its strings, rollups, goals, API keys, import
// state, imported aggregates, the site), with
// secure_delete so freed pages are zeroed; with `erase`, also a VACUUM and a WAL truncation so
// not a byte of its rows is left anywhere in the files. Daily keys are shared by all sites and
// expire on their own within 48 hours.
import type Database from 'better-sqlite3';

export interface RemovedCounts {
  events: number;
  visits: number;
}

export function removeSite(sqlite: Database.Database, siteId: number, erase: boolean): RemovedCounts {
  sqlite.pragma('secure_delete = ON');
  try {
    const counts = sqlite.transaction(() => {
      const events = sqlite.prepare('DELETE FROM events WHERE site_id = ?').run(siteId).changes;
      const visits = sqlite.prepare('DELETE FROM visits WHERE site_id = ?').run(siteId).changes;
      sqlite.prepare('DELETE FROM api_keys WHERE site_id = ?').run(siteId);
      sqlite.prepare('DELETE FROM import_state WHERE site_id = ?').run(siteId);
      for (const t of ['strings', 'daily_stats', 'hourly_stats', 'rollup_days', 'rollup_dirty', 'goals', 'imported_stats', 'imports']) {
        sqlite.prepare(`DELETE FROM ${t} WHERE site_id = ?`).run(siteId);
      }
      sqlite.prepare('DELETE FROM sites WHERE id = ?').run(siteId);
      return { events, visits };
    })();
    if (erase) {
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      sqlite.exec('VACUUM');
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
    }
    return counts;
  } finally {
    sqlite.pragma('secure_delete = OFF');
  }
}
