// The per-site string dictionary (table `strings`): the writer turns each text value into its id
// here, inserting values it has not seen. Ids are cached (most hits repeat a few hundred values);
// the cache is dropped after a failed batch, whose new ids rolled back with it.
import type Database from 'better-sqlite3';

const MAX_CACHED = 200_000;
// Another process (hush retention) may delete values no row uses; a cached id of such a value
// would then dangle. Values unused for the whole retention period are rare, and an hour bounds it.
const CACHE_MS = 3_600_000;

export class Dictionary {
  private readonly cache = new Map<string, number>();
  private cachedSince = Date.now();
  private readonly find: Database.Statement;
  private readonly insert: Database.Statement;

  constructor(sqlite: Database.Database) {
    this.find = sqlite.prepare('SELECT id FROM strings WHERE site_id = ? AND value = ?').pluck();
    this.insert = sqlite.prepare('INSERT INTO strings (site_id, value) VALUES (?, ?) RETURNING id').pluck();
  }

  /** The id of a value of a site (null stays null). Call inside the batch's transaction. */
  id(siteId: number, value: string | null): number | null {
    if (value === null) return null;
    if (this.cache.size && Date.now() - this.cachedSince > CACHE_MS) this.forget();
    const key = `${siteId}\u0000${value}`;
    let id = this.cache.get(key);
    if (id === undefined) {
      id = (this.find.get(siteId, value) as number | undefined) ?? (this.insert.get(siteId, value) as number);
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(key, id);
    }
    return id;
  }

  /** Forgets every cached id (after a rollback, or after unused values were deleted). */
  forget(): void {
    this.cache.clear();
    this.cachedSince = Date.now();
  }
}
