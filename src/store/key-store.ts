// SQLite persistence of the daily keys (see pseudonymize/daily-keys.ts). Deleting a key turns
// on secure_delete for that statement and truncates the WAL, so the key's bytes are overwritten
// in the file instead of lingering on a free page or in an old WAL frame.
import type { SqlConnection, SqlStatement } from './sql.ts';
import type { KeyStore } from '../pseudonymize/daily-keys.ts';

export function sqliteKeyStore(sqlite: SqlConnection): KeyStore {
  const all = sqlite.prepare('SELECT day, key FROM daily_keys ORDER BY day');
  const insert = sqlite.prepare('INSERT OR IGNORE INTO daily_keys (day, key, created_at) VALUES (?, ?, ?)');
  const one = sqlite.prepare('SELECT key FROM daily_keys WHERE day = ?');
  const del = sqlite.prepare('DELETE FROM daily_keys WHERE day < ?');
  return {
    all: () => all.all() as Array<{ day: string; key: Buffer }>,
    insertIfAbsent(day, key, createdAt) {
      insert.run(day, key, createdAt);
      return (one.get(day) as { key: Buffer }).key;
    },
    deleteBefore(day) {
      sqlite.pragma('secure_delete = ON');
      try {
        const n = del.run(day).changes;
        if (n > 0) sqlite.pragma('wal_checkpoint(TRUNCATE)');
        return n;
      } finally {
        sqlite.pragma('secure_delete = OFF');
      }
    },
  };
}
