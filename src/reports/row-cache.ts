// Filtered reads shared between queries, for what day segments (segment-cache.ts) do not hold:
// custom properties and HTTP status filters. A dashboard asks eight questions of the same filtered
// month, and each would scan the same events. The rows of a (site, range, filter) read — with
// every rolled-up dimension's value — stay here for a few seconds, so the first query pays the
// scan and the others only aggregate. A read is reused while nothing was written since (SQLite's
// data_version and total_changes tell), or for 2 s whatever happens: a dashboard's queries come
// within a second, and a busy site writes every millisecond. Bounded: 4 reads, ≤ 2 M rows each.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import { ROLLUP_DIMENSIONS, type Dimension } from './dimensions.ts';
import { fetchEventRows, type EventRows, type FetchRequest } from './aggregate.ts';

const TTL_MS = 15_000;
const SHARE_MS = 2_000;
const MAX_ENTRIES = 4;
const MAX_ROWS = 2_000_000;

interface Entry { at: number; version: string; data: EventRows }
const caches = new WeakMap<SqlConnection, Map<string, Entry>>();

/** The rows for a read, from the cache or the database. `dims` beyond the rolled-up ones are added. */
export function cachedRows(sqlite: SqlConnection, q: FetchRequest, now = performance.now()): EventRows {
  const extra = q.dims.filter((d) => d.code === undefined);
  const dims: Dimension[] = [...ROLLUP_DIMENSIONS, ...extra];
  const key = JSON.stringify([q.siteId, q.start, q.end, q.tz, extra.map((d) => d.name), q.filter?.sql ?? null, q.filter?.params ?? []]);
  let cache = caches.get(sqlite);
  if (!cache) caches.set(sqlite, (cache = new Map()));
  for (const [k, e] of cache) if (now - e.at > TTL_MS) cache.delete(k);
  // Another connection's commit bumps data_version; this connection's own writes, total_changes.
  const version = `${sqlite.pragma('data_version', { simple: true })}:${sqlite.prepare('SELECT total_changes()').pluck().get()}`;
  const hit = cache.get(key);
  if (hit && (hit.version === version || now - hit.at < SHARE_MS)) return hit.data;
  const data = fetchEventRows(sqlite, { ...q, dims });
  cache.delete(key);
  if (data.rows.length <= MAX_ROWS) {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, { at: now, version, data });
  }
  return data;
}
