// The directory at the edge: one Durable Object holding what Node keeps beside the hits in its
// one database — the sites (and, as the edge grows, accounts, sessions and API keys). It runs
// Node's drizzle repositories unchanged, through drizzle's better-sqlite3 session over DoSqlite
// (the durable-sqlite driver's run() returns no `changes`, which the repositories read).
import { DurableObject } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from '../../db/schema.ts';
import { SiteRepo, isTimeZone, normalizeDomain, type NewSite, type Site } from '../store/sites.ts';
import type { Db } from '../store/db.ts';
import { ApiKeyRepo } from '../store/api-keys.ts';
import { GoalRepo, type Goal } from '../store/goals.ts';
import { apiKeys } from '../../db/schema.ts';
import type { DurableObjectState } from './cf-types.ts';
import { DoSqlite } from './do-sqlite.ts';
import { applyMigrations } from './migrations.ts';

export type AddSiteResult = { ok: true; site: Site } | { ok: false; error: string };

/** What each isolate copies: the sites, and the API keys as hashes (never the keys). */
export interface DirectoryCopy {
  sites: Site[];
  keys: Array<{ keyHash: string; siteId: number }>;
  /** Sites split over more than one object: site id → number of shards (absent: 1). */
  shards: Array<{ siteId: number; shards: number }>;
}

/** The most objects a site may be split over. */
export const MAX_SHARDS = 64;

export class Directory extends DurableObject {
  private sitesRepo!: SiteRepo;
  private keysRepo!: ApiKeyRepo;
  private goalsRepo!: GoalRepo;
  private db!: Db;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      await applyMigrations(ctx.storage);
      const db = drizzle(new DoSqlite(ctx.storage) as never, { schema }) as unknown as Db;
      this.db = db;
      this.sitesRepo = new SiteRepo(db);
      this.keysRepo = new ApiKeyRepo(db);
      this.goalsRepo = new GoalRepo(db);
      // The edge's own setting, beside Node's schema: how many objects a site's visitors are
      // split over. Fixed when the site is made (a visitor must keep its shard for the day).
      ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS edge_shards (site_id INTEGER PRIMARY KEY, shards INTEGER NOT NULL)');
    });
  }

  sites(): Site[] {
    return this.sitesRepo.list();
  }

  /** What a site's object needs for its alarm (retention, rollups' time zone); null if the site is gone. */
  siteSettings(siteId: number): Pick<Site, 'id' | 'domain' | 'timezone' | 'retentionDays'> | null {
    const s = this.sitesRepo.byId(siteId);
    return s ? { id: s.id, domain: s.domain, timezone: s.timezone, retentionDays: s.retentionDays } : null;
  }

  copy(): DirectoryCopy {
    return {
      sites: this.sitesRepo.list(),
      keys: this.db.select({ keyHash: apiKeys.keyHash, siteId: apiKeys.siteId }).from(apiKeys).all(),
      shards: this.ctx.storage.sql.exec('SELECT site_id AS siteId, shards FROM edge_shards').toArray() as Array<{ siteId: number; shards: number }>,
    };
  }

  /** A new Stats API key for a site, shown once (as `hush key add`). */
  createKey(siteId: number): string | null {
    return this.sitesRepo.byId(siteId) ? this.keysRepo.create(siteId) : null;
  }

  goals(siteId: number): Goal[] {
    return this.goalsRepo.list(siteId);
  }

  /** Registers a site, validated as `hush site add` does. */
  addSite(input: NewSite & { shards?: number }): AddSiteResult {
    const domain = normalizeDomain(input.domain ?? '');
    if (!domain) return { ok: false, error: '"domain" must be a host name, e.g. example.com' };
    const timezone = input.timezone ?? 'UTC';
    if (!isTimeZone(timezone)) return { ok: false, error: `"timezone": unknown time zone ${JSON.stringify(timezone.slice(0, 60))}` };
    if (this.sitesRepo.byDomain(domain)) return { ok: false, error: `the site ${domain} already exists` };
    const shards = input.shards ?? 1;
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) return { ok: false, error: `"shards" must be a whole number from 1 to ${MAX_SHARDS}` };
    try {
      const { shards: _, ...fields } = input;
      const site = this.sitesRepo.add({ ...fields, domain, timezone });
      if (shards > 1) this.ctx.storage.sql.exec('INSERT INTO edge_shards (site_id, shards) VALUES (?, ?)', site.id, shards);
      return { ok: true, site };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }
}
