// Reports group by string ids and turn them back into text at the end. Ids are never reused
// (AUTOINCREMENT), so the id → text map is cached per connection and extended as new ids appear.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';

interface Decoder {
  byId: Map<number, string>;
  maxId: number;
}
const decoders = new WeakMap<SqlConnection, Decoder>();

function load(sqlite: SqlConnection, d: Decoder): void {
  const rows = sqlite.prepare('SELECT id, value FROM strings WHERE id > ? ORDER BY id').raw(true).all(d.maxId) as Array<[number, string]>;
  for (const [id, value] of rows) d.byId.set(id, value);
  if (rows.length) d.maxId = rows[rows.length - 1][0];
}

/** The text of a string id (null for null, or for an id whose value was deleted). */
export function textOf(sqlite: SqlConnection, id: number | null): string | null {
  if (id === null) return null;
  let d = decoders.get(sqlite);
  if (!d) decoders.set(sqlite, (d = { byId: new Map(), maxId: 0 }));
  let v = d.byId.get(id);
  if (v === undefined && id > d.maxId) {
    load(sqlite, d);
    v = d.byId.get(id);
  }
  return v ?? null;
}

/** The id of a site's value, or -1 when the site never stored it (matches no row). */
export function idOf(sqlite: SqlConnection, siteId: number, value: string): number {
  return (sqlite.prepare('SELECT id FROM strings WHERE site_id = ? AND value = ?').pluck().get(siteId, value) as number | undefined) ?? -1;
}

/** The ids of the event names the report SQL tests for. */
export function nameIds(sqlite: SqlConnection, siteId: number): { pageview: number; engagement: number } {
  return { pageview: idOf(sqlite, siteId, 'pageview'), engagement: idOf(sqlite, siteId, 'engagement') };
}

/** A dimension's value in a result row: a string id decoded, anything else as text. */
export function dimensionText(sqlite: SqlConnection, dim: { text?: boolean; zero?: string }, raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  if (!dim.text) return String(raw);
  if (raw === 0 && dim.zero) return dim.zero;
  return textOf(sqlite, raw as number);
}
