// The daily keys' persistence inside a site's Durable Object: the same `daily_keys` table and
// KeyStore contract as Node (store/key-store.ts). Node deletes with secure_delete and truncates
// the WAL so a key's bytes leave the file; a Durable Object allows neither PRAGMA, so here a
// key is overwritten with zeros in place before its row is deleted (test/edge.test.ts scans the
// object's files for the old key's bytes after the alarm).
import type { KeyStore } from '../pseudonymize/daily-keys.ts';
import type { DoSqlite } from './do-sqlite.ts';

export function doKeyStore(db: DoSqlite): KeyStore {
  const all = db.prepare('SELECT day, key FROM daily_keys ORDER BY day');
  const insert = db.prepare('INSERT OR IGNORE INTO daily_keys (day, key, created_at) VALUES (?, ?, ?)');
  const one = db.prepare('SELECT key FROM daily_keys WHERE day = ?');
  const zero = db.prepare('UPDATE daily_keys SET key = zeroblob(length(key)) WHERE day < ?');
  const del = db.prepare('DELETE FROM daily_keys WHERE day < ?');
  const deleteBefore = db.transaction((day: string) => {
    zero.run(day);
    return del.run(day).changes;
  });
  return {
    all: () => all.all() as Array<{ day: string; key: Buffer }>,
    insertIfAbsent(day, key, createdAt) {
      insert.run(day, key, createdAt);
      return (one.get(day) as { key: Buffer }).key;
    },
    deleteBefore,
  };
}
