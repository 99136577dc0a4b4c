// Opens the SQLite database: creates its folder and file, sets WAL and durability, and applies
// the drizzle-kit migrations from db/migrations (resolved from this file, not the working dir).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from '../../db/schema.ts';

export const MIGRATIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../db/migrations');

export type Db = BetterSQLite3Database<typeof schema>;

export interface OpenDb {
  sqlite: Database.Database;
  db: Db;
  close(): void;
}

export interface OpenOptions {
  /** FULL: an acknowledged hit survives power loss; NORMAL: it survives a process crash. */
  synchronous?: 'FULL' | 'NORMAL';
  readonly?: boolean;
  /** Apply pending migrations (default true; a second connection to a migrated file skips it). */
  migrate?: boolean;
}

/** Opens (creating and migrating) the database at `file`; `:memory:` works too. */
export function openDb(file: string, opts: OpenOptions = {}): OpenDb {
  if (file !== ':memory:' && !opts.readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new Database(file, { readonly: opts.readonly ?? false });
  sqlite.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    sqlite.pragma('foreign_keys = ON');
  }
  const db = drizzle(sqlite, { schema });
  if (!opts.readonly && opts.migrate !== false) migrate(db, { migrationsFolder: MIGRATIONS });
  return { sqlite, db, close: () => sqlite.close() };
}
