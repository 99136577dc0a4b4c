// The unfiltered breakdown a filtered panel is checked against (k-anonymity: each row's
// complement, README "Reports") is the same whichever row the marketer clicks: the daily
// rollups of the panel's dimension over the range. Reading them is 18k rows for a month of a
// 600-page site (~16 ms on the 1M bench, the largest part of a filtered page panel), so the
// read is kept per (site, dimension, days, sums) until one of those days is rolled up again
// (built_at, or this process's rebuild count). Only filtered queries use it: the unfiltered
// dashboard reads the rollups every time, as before.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import type { SourceRow } from './raw-source.ts';
import { prepared } from './raw-source.ts';
import { rebuildsOf } from './segment-cache.ts';

const MAX = 64;
const kept = new WeakMap<SqlConnection, Map<string, { token: string; rows: SourceRow[] }>>();

export function complementRows(sqlite: SqlConnection, siteId: number, code: number, fromDay: number, toDay: number, collapse: boolean,
  cols: number[] | undefined, read: () => SourceRow[]): SourceRow[] {
  const built = (prepared(sqlite, "SELECT group_concat(day || ':' || built_at) FROM rollup_days WHERE site_id = ? AND day BETWEEN ? AND ?")
    .get(siteId, fromDay, toDay) as [string | null])[0];
  const token = `${built}|${rebuildsOf(siteId, fromDay, toDay)}`;
  const key = JSON.stringify([siteId, code, fromDay, toDay, collapse, cols ?? null]);
  let m = kept.get(sqlite);
  if (!m) kept.set(sqlite, (m = new Map()));
  const hit = m.get(key);
  if (hit && hit.token === token) return hit.rows;
  const rows = read();
  m.delete(key);
  if (m.size >= MAX) m.delete(m.keys().next().value!);
  m.set(key, { token, rows });
  return rows;
}
