// The same drizzle-kit migrations as Node (db/migrations), in a Durable Object's SQLite. The
// Worker has no file system: scripts/edge-build.ts packs the journal and the SQL files into one
// text module at build time, with the schema they build (`baseline`, made by Node's migrator on
// an empty in-memory database). A new object starts from that baseline and records every
// migration as applied: the history cannot replay here, because Cloudflare's SQLite caps a
// compound SELECT at fewer terms than migration 0005's data copy uses ("too many terms in
// compound SELECT"), and a new object has no data to copy anyway. An object made by an earlier
// deployment gets the migrations newer than its last one from drizzle's durable-sqlite migrator.
import { drizzle } from 'drizzle-orm/durable-sqlite';
import { migrate } from 'drizzle-orm/durable-sqlite/migrator';
import type { DurableObjectStorage } from './cf-types.ts';
import migrationsText from './generated/migrations.txt';

type MigrationConfig = Parameters<typeof migrate>[1] & { baseline: string[] };

let parsed: MigrationConfig | null = null;

/** Brings the object's database to the current schema, in one transaction (all or nothing, as on Node). */
export async function applyMigrations(storage: DurableObjectStorage): Promise<void> {
  parsed ??= JSON.parse(migrationsText) as MigrationConfig;
  const config = parsed;
  const fresh = storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").toArray().length === 0;
  try {
    if (fresh) {
      storage.transactionSync(() => {
        for (const stmt of config.baseline) storage.sql.exec(stmt);
        // drizzle's own bookkeeping table, as its migrator creates it.
        storage.sql.exec('CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)');
        for (const e of config.journal.entries) storage.sql.exec('INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)', '', e.when);
      });
    }
    await migrate(drizzle(storage as never), config);
  } catch (e) {
    const reason = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
    throw new Error(`the object's database could not be upgraded, and nothing in it was changed: ${reason}`, { cause: e });
  }
}
