// The per-site string dictionary (table `strings`): the writer turns each text value into its id
// here, inserting values it has not seen. Ids are cached (most hits repeat a few hundred values);
// the cache is dropped after a failed batch, whose new ids rolled back with it.
import type { SqlConnection, SqlStatement } from './sql.ts';

const MAX_CACHED = 200_000;
// Another process (hush retention) may delete values no row uses; a cached id of such a value
// would then dangle. Values unused for the whole retention period are rare, and an hour bounds it.
const CACHE_MS = 3_600_000;

export class Dictionary {
  /** Per site: value → id. Nested maps, so a lookup builds no key string (it is on the hit path). */
  private readonly cache = new Map<number, Map<string, number>>();
  /** The last site asked for and its map: a batch is nearly always one site (~21 lookups a new visit). */
  private lastSite = -1;
  private lastMap: Map<string, number> | null = null;
  private size = 0;
  private cachedSince = Date.now();
  private readonly find: SqlStatement;
  private readonly insert: SqlStatement;

  constructor(sqlite: SqlConnection) {
    this.find = sqlite.prepare('SELECT id FROM strings WHERE site_id = ? AND value = ?').pluck();
    this.insert = sqlite.prepare('INSERT INTO strings (site_id, value) VALUES (?, ?) RETURNING id').pluck();
  }

  /** Called once per batch: drops the cache when it is an hour old (see CACHE_MS). */
  startBatch(now = Date.now()): void {
    if (now - this.cachedSince > CACHE_MS) this.forget();
  }

  /** The id of a value of a site (null stays null). Call inside the batch's transaction. */
  id(siteId: number, value: string | null): number | null {
    if (value === null) return null;
    let site = siteId === this.lastSite ? this.lastMap : this.cache.get(siteId);
    if (!site) this.cache.set(siteId, (site = new Map()));
    this.lastSite = siteId;
    this.lastMap = site;
    let id = site.get(value);
    if (id === undefined) {
      id = (this.find.get(siteId, value) as number | undefined) ?? (this.insert.get(siteId, value) as number);
      if (this.size >= MAX_CACHED) {
        this.forget();
        this.cache.set(siteId, (site = new Map()));
        this.lastSite = siteId;
        this.lastMap = site;
      }
      site.set(value, id);
      this.size++;
    }
    return id;
  }

  /** Forgets every cached id (after a rollback, or after unused values were deleted). */
  forget(): void {
    this.cache.clear();
    this.lastSite = -1;
    this.lastMap = null;
    this.size = 0;
    this.cachedSince = Date.now();
  }
}
