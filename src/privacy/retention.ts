// Retention, enforced by the server itself (DESIGN invariant 6): a site's events and visits
// older than its retention are deleted, counted from local midnight in the site's time zone so
// "keep 30 days" means 30 calendar days there, across DST changes. Deletes go in batches of
// 5,000 rows (a few ms each), so a live writer is never locked out for long. The same code runs
// in a site's Durable Object at the edge (enforceSiteRetention, from the object's alarm), where the
// site's settings come from the directory rather than a `sites` row beside the events.
import { localDayNumber, localMidnight, localParts } from '../reports/time-zone.ts';
import { deleteUnusedStrings } from '../store/string-gc.ts';
import type { SqlConnection, SqlStatement } from '../store/sql.ts';

const BATCH = 5000;

export interface RetentionResult {
  domain: string;
  /** The first kept instant: rows before it are past retention. */
  cutoff: number;
  events: number;
  visits: number;
  /** Rollup rows (daily, hourly) and imported aggregates (imported_stats) of local days before the cutoff. */
  rollups: number;
  /** Dictionary values no remaining row refers to (not counted in a dry run). */
  strings: number;
}

/** Start of the local day `days` days before the local day of `now`. */
export function retentionCutoff(now: number, days: number, tz: string): number {
  const p = localParts(now, tz);
  return localMidnight(p.y, p.m, p.d - days, tz);
}

/** The settings retention reads of a site. */
export interface RetentionSite {
  id: number;
  domain: string;
  timezone: string;
  /** retention_days */
  days: number;
}

/**
 * Deletes (or with dryRun, counts) every site's rows past retention.
 * Visits go by their last activity, so a visit is deleted only when all of it is past retention.
 */
export function enforceRetention(sqlite: SqlConnection, now: number, dryRun = false): RetentionResult[] {
  const sites = sqlite.prepare('SELECT id, domain, timezone, retention_days AS days FROM sites ORDER BY domain').all() as RetentionSite[];
  const one = retentionOf(sqlite);
  return sites.map((s) => one(s, now, dryRun));
}

/** Deletes (or counts) one site's rows past its retention, for a store that holds that site's data. */
export function enforceSiteRetention(sqlite: SqlConnection, site: RetentionSite, now: number, dryRun = false): RetentionResult {
  return retentionOf(sqlite)(site, now, dryRun);
}

function retentionOf(sqlite: SqlConnection): (s: RetentionSite, now: number, dryRun: boolean) => RetentionResult {
  const countEvents = sqlite.prepare('SELECT count(*) AS n FROM events WHERE site_id = ? AND ts < ?');
  const countVisits = sqlite.prepare('SELECT count(*) AS n FROM visits WHERE site_id = ? AND end_ts < ?');
  const delEvents = sqlite.prepare('DELETE FROM events WHERE (site_id, ts, id) IN (SELECT site_id, ts, id FROM events WHERE site_id = ? AND ts < ? LIMIT ?)');
  // Visits have no index by site or time (migration 0016 saved 5.1 bytes per event): one read
  // pass over the table finds the site's visits past the cutoff (~0.3 s for the 3M visits of the
  // 10M-event bench), outside any write transaction, then they go by id in batches.
  const pastVisits = sqlite.prepare('SELECT id FROM visits WHERE site_id = ? AND end_ts < ?').pluck();
  const delVisit = sqlite.prepare('DELETE FROM visits WHERE id = ?');
  const delVisits = sqlite.transaction((ids: number[]) => { for (const id of ids) delVisit.run(id); });
  const deleteVisits = (siteId: number, cutoff: number) => {
    const ids = pastVisits.all(siteId, cutoff) as number[];
    for (let i = 0; i < ids.length; i += BATCH) delVisits(ids.slice(i, i + BATCH));
    return ids.length;
  };
  // The cutoff is a local midnight, so rollups go by whole local days before it.
  const countRollups = sqlite.prepare(`SELECT (SELECT count(*) FROM daily_stats WHERE site_id = ? AND day < ?)
    + (SELECT count(*) FROM hourly_stats WHERE site_id = ? AND hour < ? * 24)
    + (SELECT count(*) FROM imported_stats WHERE site_id = ? AND day < ?) AS n`);
  const delDaily = sqlite.prepare('DELETE FROM daily_stats WHERE rowid IN (SELECT rowid FROM daily_stats WHERE site_id = ? AND day < ? LIMIT ?)');
  const delHourly = sqlite.prepare('DELETE FROM hourly_stats WHERE rowid IN (SELECT rowid FROM hourly_stats WHERE site_id = ? AND hour < ? * 24 LIMIT ?)');
  // Imported aggregates (hush import-plausible) follow the same retention as the site's own data.
  const delImported = sqlite.prepare('DELETE FROM imported_stats WHERE rowid IN (SELECT rowid FROM imported_stats WHERE site_id = ? AND day < ? LIMIT ?)');
  const delBuilt = sqlite.prepare('DELETE FROM rollup_days WHERE site_id = ? AND day < ?');
  const drain = (stmt: SqlStatement, args: unknown[]) => {
    let total = 0;
    for (;;) {
      const n = stmt.run(...args, BATCH).changes;
      total += n;
      if (n < BATCH) return total;
    }
  };
  return (s, now, dryRun) => {
    const cutoff = retentionCutoff(now, s.days, s.timezone);
    const day = localDayNumber(cutoff, s.timezone);
    if (dryRun) {
      return {
        domain: s.domain, cutoff,
        events: (countEvents.get(s.id, cutoff) as { n: number }).n,
        visits: (countVisits.get(s.id, cutoff) as { n: number }).n,
        rollups: (countRollups.get(s.id, day, s.id, day, s.id, day) as { n: number }).n,
        strings: 0,
      };
    }
    const events = drain(delEvents, [s.id, cutoff]);
    // A visit ends with one of its events (its end_ts is that event's time), so a visit newly past
    // the cutoff means events of the site went too: the pass runs only then (once a local day).
    const visits = events ? deleteVisits(s.id, cutoff) : 0;
    const rollups = drain(delDaily, [s.id, day]) + drain(delHourly, [s.id, day]) + drain(delImported, [s.id, day]);
    delBuilt.run(s.id, day);
    // Values only the deleted rows used go too (a full pass over the site: only when needed).
    const strings = events || visits ? deleteUnusedStrings(sqlite, s.id) : 0;
    return { domain: s.domain, cutoff, events, visits, rollups, strings };
  };
}
