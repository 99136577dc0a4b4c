// A visit's platform (browser, OS, their versions, device, screen) and acquisition (source,
// channel, UTM tags) are rows of `platforms` and `acquisitions`, one per combination of string ids
// a site has seen (migration 0017: ~23 bytes less per visit than 13 columns on every visit). The
// writer turns a new visit's ids into those two row ids here, once per visit; rows it has not seen
// are inserted in the batch's transaction. Cached like the dictionary's ids, and dropped with them.
import type { SqlConnection, SqlStatement } from './sql.ts';

/** The string-id columns of each table, in the order callers pass values. */
export const PLATFORM_COLS = ['browser_id', 'browser_version_id', 'os_id', 'os_version_id', 'device_id', 'screen_id'] as const;
export const ACQUISITION_COLS = ['source_id', 'channel_id', 'utm_source_id', 'utm_medium_id', 'utm_campaign_id', 'utm_content_id', 'utm_term_id'] as const;

// Combinations are few (a site sees hundreds to thousands), so the cache rarely fills.
const MAX_CACHED = 100_000;
// Retention deletes rows no visit uses any more, maybe in another process (as the dictionary's
// CACHE_MS): a cached id of one would dangle, so the cache is dropped hourly.
const CACHE_MS = 3_600_000;

/** A cache level: by site, then by each value in turn (null as -1); the last level holds the row id. */
type Level = Map<number, Level | number>;

class Combinations {
  // Nested maps keyed by the ids themselves: a lookup builds no key string (~1 µs each as a
  // joined string, measured on the writer's path).
  private cache: Level = new Map();
  private size = 0;
  private readonly find: SqlStatement;
  private readonly insert: SqlStatement;

  constructor(sqlite: SqlConnection, table: string, cols: readonly string[]) {
    // `IS`: a NULL (no UTM tag, no screen) is a value like any other; the index serves IS too.
    this.find = sqlite.prepare(`SELECT id FROM ${table} WHERE site_id = ? AND ${cols.map((c) => `${c} IS ?`).join(' AND ')}`).pluck();
    this.insert = sqlite.prepare(`INSERT INTO ${table} (site_id, ${cols.join(', ')}) VALUES (?, ${cols.map(() => '?').join(', ')}) RETURNING id`).pluck();
  }

  /** The row id of this combination on the site. Call inside the batch's transaction. */
  id(siteId: number, values: Array<number | null>): number {
    let level = this.cache;
    let key = siteId;
    for (let i = 0; i <= values.length; i++) {
      const next = level.get(key);
      if (i === values.length) {
        if (next !== undefined) return next as number;
        break;
      }
      let sub = next as Level | undefined;
      if (sub === undefined) level.set(key, (sub = new Map()));
      level = sub;
      key = values[i] ?? -1;
    }
    const id = (this.find.get(siteId, ...values) as number | undefined) ?? (this.insert.get(siteId, ...values) as number);
    if (this.size >= MAX_CACHED) {
      this.forget();
      return id;
    }
    level.set(key, id);
    this.size++;
    return id;
  }

  forget(): void {
    this.cache = new Map();
    this.size = 0;
  }
}

export class VisitProfiles {
  readonly platforms: Combinations;
  readonly acquisitions: Combinations;
  private cachedSince = Date.now();

  constructor(sqlite: SqlConnection) {
    this.platforms = new Combinations(sqlite, 'platforms', PLATFORM_COLS);
    this.acquisitions = new Combinations(sqlite, 'acquisitions', ACQUISITION_COLS);
  }

  /** Called once per batch: drops the cache when it is an hour old (see CACHE_MS). */
  startBatch(now = Date.now()): void {
    if (now - this.cachedSince > CACHE_MS) this.forget();
  }

  /** After a failed batch (its new rows rolled back) or after unused rows were deleted. */
  forget(): void {
    this.platforms.forget();
    this.acquisitions.forget();
    this.cachedSince = Date.now();
  }
}
