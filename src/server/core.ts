// Hush assembled: the database, the pipeline's dependencies, the batched writer and the app,
// plus the housekeeping each needs. The Node server and the tests build the same thing here.
import type { Config } from '../config.ts';
import { openDb, type OpenDb } from '../store/db.ts';
import { SiteDirectory, SiteRepo } from '../store/sites.ts';
import { ApiKeyRepo } from '../store/api-keys.ts';
import { HitWriter, type WriteResult } from '../store/hit-writer.ts';
import { Batcher } from '../store/batcher.ts';
import { sqliteKeyStore } from '../store/key-store.ts';
import { KeyRing } from '../pseudonymize/daily-keys.ts';
import type { CountryTables } from '../pseudonymize/country.ts';
import { AgentCache } from '../collector/user-agent.ts';
import { ClientIpResolver } from '../collector/client-ip.ts';
import { Collector } from '../collector/collect.ts';
import type { Hit } from '../collector/hit.ts';
import { createApp, type AppDeps } from './app.ts';
import type { Hono } from 'hono';

export interface Core {
  store: OpenDb;
  sites: SiteRepo;
  directory: SiteDirectory;
  apiKeys: ApiKeyRepo;
  keys: KeyRing;
  writer: HitWriter;
  batcher: Batcher<Hit, WriteResult>;
  collector: Collector;
  app: Hono;
  /** One round of housekeeping: refresh sites, delete expired keys, forget closed visits. */
  housekeeping(now?: number): { keysDeleted: number };
  /** Writes what is queued and closes the database. */
  close(): void;
}

export interface CoreOptions {
  countries: CountryTables;
  peer: AppDeps['peer'];
  clock?: () => number;
  logError?: (m: string) => void;
}

export function createCore(config: Config, opts: CoreOptions): Core {
  const clock = opts.clock ?? Date.now;
  const store = openDb(config.dbPath, { synchronous: config.synchronous });
  const sites = new SiteRepo(store.db);
  const directory = new SiteDirectory(sites);
  const apiKeys = new ApiKeyRepo(store.db);
  const keys = new KeyRing(sqliteKeyStore(store.sqlite));
  const writer = new HitWriter(store.sqlite, clock());
  const batcher = new Batcher<Hit, WriteResult>((hits) => writer.write(hits), { maxItems: config.batchMax, delayMs: config.batchMs });
  const collector = new Collector({
    precision: config.precision, sites: directory, agents: new AgentCache(), countries: opts.countries, keys,
    resolver: new ClientIpResolver(config.trustedProxies), sink: batcher, clock,
  });
  const app = createApp({
    collector, db: store.db, sites, apiKeys, peer: opts.peer, now: clock,
    logError: opts.logError ?? ((m) => console.error(m)),
    health: () => ({ pending: batcher.pending, key_days: keys.days().length }),
  });
  const core: Core = {
    store, sites, directory, apiKeys, keys, writer, batcher, collector, app,
    housekeeping(now = clock()) {
      directory.refresh();
      writer.prune(now);
      return { keysDeleted: keys.rotate(now) };
    },
    close() {
      batcher.close();
      store.close();
    },
  };
  core.housekeeping(); // a server that was down may hold keys past their lifetime
  return core;
}
