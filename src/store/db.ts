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
  /** A quota (HUSH_DB_MAX_MB): writes that would grow the file past it fail as on a full disk. */
  maxMb?: number;
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
    // max_page_count holds for this connection only: every writer that should obey it sets it.
    if (opts.maxMb) sqlite.pragma(`max_page_count = ${Math.floor((opts.maxMb * 1_048_576) / (sqlite.pragma('page_size', { simple: true }) as number))}`);
  }
  const db = drizzle(sqlite, { schema });
  if (!opts.readonly && opts.migrate !== false) applyMigrations(sqlite);
  return { sqlite, db, close: () => sqlite.close() };
}

/**
 * Applies the pending migrations of `folder`, all in one transaction (drizzle's migrator wraps
 * them in BEGIN … COMMIT): if any statement fails, every pending one is rolled back and the file
 * keeps its old schema and rows, and the error is thrown (the server then refuses to start).
 */
export function applyMigrations(sqlite: Database.Database, folder = MIGRATIONS): void {
  try {
    migrate(drizzle(sqlite, { schema }), { migrationsFolder: folder });
  } catch (e) {
    // drizzle's message is the whole statement; SQLite's reason is its cause.
    const reason = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
    throw new Error(`the database could not be upgraded, and nothing in it was changed (every pending migration was rolled back): ${reason}`, { cause: e });
  }
}
