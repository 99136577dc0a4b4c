// The directory at the edge: one Durable Object holding what Node keeps beside the hits in its
// one database — the sites, API key hashes, goals, accounts, sessions, shared links. It runs
// Node's drizzle repositories unchanged, through drizzle's better-sqlite3 session over DoSqlite
// (the durable-sqlite driver's run() returns no `changes`, which the repositories read).
// It also serves the account and dashboard pages (login, sessions, a site's dashboard, settings,
// privacy, shared links): the same Hono app as Node's, built here because those routes read
// accounts and sessions synchronously, and only this object has them. The Worker forwards those
// paths to it with the client's address replaced by its truncated prefix (the login limiter's key);
// the dashboard's numbers come from the site objects (edge-query.ts), as the Stats API's do.
import { DurableObject } from 'cloudflare:workers';
import type { Hono } from 'hono';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from '../../db/schema.ts';
import { SiteRepo, isTimeZone, normalizeDomain, type NewSite, type Site } from '../store/sites.ts';
import type { Db } from '../store/db.ts';
import { ApiKeyRepo } from '../store/api-keys.ts';
import { GoalRepo, type Goal } from '../store/goals.ts';
import { apiKeys } from '../../db/schema.ts';
import type { DurableObjectNamespace, DurableObjectState } from './cf-types.ts';
import { DoSqlite } from './do-sqlite.ts';
import { applyMigrations } from './migrations.ts';
import { createApp } from '../server/app.ts';
import { AccountError, UserRepo, normalizeEmail, type Role } from '../accounts/users.ts';
import { SessionStore } from '../accounts/sessions.ts';
import { LoginLimiter } from '../accounts/rate-limit.ts';
import { TwoFactor } from '../accounts/two-factor.ts';
import { SharedLinkRepo } from '../accounts/shared-links.ts';
import { useMapData } from '../web/world-map.ts';
import countries110m from 'world-atlas/countries-110m.json' with { type: 'json' };
import type { SiteStore } from './site-object.ts';
import { edgePropKeys, edgeQuery, siteStore } from './edge-query.ts';
import { edgeSettings, inJurisdiction } from './edge-config.ts';

// The dashboard's world map reads its geometry from a file on Node; here it is bundled (108 KB).
useMapData(countries110m as never);

/** The header the Worker puts the client's truncated network prefix in (its only trace of the address). */
export const CLIENT_PREFIX_HEADER = 'x-hush-client-prefix';

interface DirectoryEnv {
  SITES?: DurableObjectNamespace<SiteStore>;
  HUSH_JURISDICTION?: string;
  HUSH_IP_PRECISION?: string;
  HUSH_MIN_K_FLOOR?: string;
}

export type AddUserResult = { ok: true; user: { id: number; email: string; admin: boolean }; created: boolean; site?: string; role?: Role } | { ok: false; error: string };

/** Sessions past their end are deleted at most this often (Node's housekeeping does it every few minutes). */
const PURGE_MS = 3_600_000;

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

export class Directory extends DurableObject<DirectoryEnv> {
  private sitesRepo!: SiteRepo;
  private keysRepo!: ApiKeyRepo;
  private goalsRepo!: GoalRepo;
  private users!: UserRepo;
  private sessions!: SessionStore;
  private db!: Db;
  private web: Hono | null = null;
  private purgedAt = 0;

  constructor(ctx: DurableObjectState, env: DirectoryEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      await applyMigrations(ctx.storage);
      const db = drizzle(new DoSqlite(ctx.storage) as never, { schema }) as unknown as Db;
      this.db = db;
      this.sitesRepo = new SiteRepo(db);
      this.keysRepo = new ApiKeyRepo(db);
      this.goalsRepo = new GoalRepo(db);
      this.users = new UserRepo(db);
      this.sessions = new SessionStore(db);
      // The edge's own setting, beside Node's schema: how many objects a site's visitors are
      // split over. Fixed when the site is made (a visitor must keep its shard for the day).
      ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS edge_shards (site_id INTEGER PRIMARY KEY, shards INTEGER NOT NULL)');
    });
  }

  /** The account and dashboard pages (the paths the Worker does not answer itself). */
  async fetch(request: Request): Promise<Response> {
    const now = Date.now();
    if (now - this.purgedAt > PURGE_MS) {
      this.purgedAt = now;
      this.sessions.purge(now);
    }
    this.web ??= this.buildWeb();
    return this.web.fetch(request);
  }

  private buildWeb(): Hono {
    if (!this.env.SITES) throw new Error('the directory object has no SITES binding');
    const ns = inJurisdiction(this.env.SITES, this.env);
    const { precision, kFloor } = edgeSettings(this.env);
    const shards = (siteId: number) => this.shardsOf(siteId);
    return createApp({
      sites: this.sitesRepo,
      apiKeys: this.keysRepo,
      query: (site, body) => edgeQuery(ns, site, this.goalsRepo.list(site.id), body, shards(site.id), Date.now()),
      exportCsv: () => { throw new Error('CSV export is not available at the edge yet'); },
      // No address reaches this object: the Worker passes the truncated prefix only (below), and
      // the event routes, the only ones that read the peer, are not built here.
      peer: () => '',
      now: Date.now,
      logError: (m) => console.error(m),
      web: {
        sites: this.sitesRepo, apiKeys: this.keysRepo, goals: this.goalsRepo, users: this.users, sessions: this.sessions,
        limiter: new LoginLimiter(), twoFactor: new TwoFactor(this.db), links: new SharedLinkRepo(this.db), now: Date.now,
        kFloor, precision,
        propKeys: (site, name, range) => edgePropKeys(ns, site, name, range, shards(site.id), Date.now()),
        keyCreatedAt: (siteId) => siteStore(ns, siteId).keyCreatedAt(),
        // Each site object compares the zone of the query with the one its rollups were cut in and
        // drops them itself when it changed (site-object.ts readyToRead): nothing to do here.
        timezoneChanged: () => undefined,
        clientPrefix: (c) => c.req.header(CLIENT_PREFIX_HEADER) ?? 'unknown',
        // Cloudflare ends TLS and keeps the scheme in the request URL.
        isHttps: (c) => new URL(c.req.url).protocol === 'https:',
      },
    });
  }

  /** How many objects a site's visitors are split over. */
  private shardsOf(siteId: number): number {
    const row = this.ctx.storage.sql.exec('SELECT shards FROM edge_shards WHERE site_id = ?', siteId).toArray()[0] as { shards: number } | undefined;
    return row?.shards ?? 1;
  }

  /**
   * A dashboard account, as `hush user add` makes it: an admin (sees and manages every site), or
   * an account with one site as owner or viewer; an existing e-mail with a site is granted it.
   */
  async addUser(input: { email: string; password?: string; admin?: boolean; site?: string; role?: string }): Promise<AddUserResult> {
    const email = normalizeEmail(input.email);
    if (!email) return { ok: false, error: '"email" must be an e-mail address' };
    const role = input.role ?? 'owner';
    if (role !== 'owner' && role !== 'viewer') return { ok: false, error: '"role" must be "owner" or "viewer"' };
    const admin = input.admin === true;
    if (admin === (input.site !== undefined)) return { ok: false, error: 'give either "admin": true or "site": "<domain>"' };
    const domain = input.site === undefined ? null : normalizeDomain(input.site);
    if (input.site !== undefined && !domain) return { ok: false, error: '"site" must be a domain name' };
    const site = domain ? this.sitesRepo.byDomain(domain) : undefined;
    if (domain && !site) return { ok: false, error: `"site": no site ${domain}` };
    let user = this.users.byEmail(email);
    let created = false;
    if (!user) {
      try {
        user = await this.users.create(email, input.password ?? '', admin);
        created = true;
      } catch (e) {
        if (e instanceof AccountError) return { ok: false, error: `cannot create the account: ${e.message}` };
        throw e;
      }
    }
    if (site) this.users.grant(user.id, site.id, role);
    return { ok: true, user: { id: user.id, email: user.email, admin: user.admin === 1 }, created, ...(site ? { site: site.domain, role } : {}) };
  }

  /** How many accounts exist (the Worker's /setup page says whether the first is still to be made). */
  userCount(): number {
    return this.users.count();
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
