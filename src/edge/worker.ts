// The Worker entry: Hush's own Hono app (server/app.ts) and collector (collector/*) on
// Cloudflare's runtime. What differs from Node is built here and passed in as values, as
// @hono/node-server's host does on Node: the client address (CF-Connecting-IP, which
// Cloudflare sets), the site directory and the daily keys (Durable Objects, cached per isolate),
// the country table (a packed binary module) and where hits go (the site's Durable Object).
// The raw IP is truncated in this isolate, inside the request; a site's object receives the
// finished hit — visitor hash, country, families — and nothing else.
import { Hono } from 'hono';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createApp } from '../server/app.ts';
import { Collector, type HitSink } from '../collector/collect.ts';
import { AgentCache } from '../collector/user-agent.ts';
import { ClientIpResolver } from '../collector/client-ip.ts';
import type { Hit } from '../collector/hit.ts';
import type { Precision } from '../pseudonymize/truncate.ts';
import { privacyDocument } from '../privacy/document.ts';
import { QueryError } from '../reports/query-error.ts';
import { finish, mergeSums, type QueryResponse, type QuerySums } from '../reports/engine.ts';
import { parseQuery, type Query } from '../reports/query.ts';
import type { Site } from '../store/sites.ts';
import type { Goal } from '../store/goals.ts';
import type { DurableObjectNamespace, ExecutionContext } from './cf-types.ts';
import { unpackCountries } from './country-pack.ts';
import { EdgeKeys } from './edge-keys.ts';
import { EdgeSites } from './edge-sites.ts';
import type { SiteStore } from './site-object.ts';
import type { Directory } from './directory-object.ts';
import countriesBin from './generated/countries.bin';
import beaconText from './generated/hush.js.txt';

export { SiteStore } from './site-object.ts';
export { Directory } from './directory-object.ts';

export interface Env {
  SITES: DurableObjectNamespace<SiteStore>;
  DIRECTORY: DurableObjectNamespace<Directory>;
  /** Bearer token of the admin API (/_hush/admin/*); without it that API answers 404. */
  HUSH_ADMIN_TOKEN?: string;
  HUSH_IP_PRECISION?: string;
  HUSH_MIN_K_FLOOR?: string;
  /** How long after a write a site object builds the rollups of its days (ms; default 60 s, see site-object.ts). */
  HUSH_ROLLUP_MS?: string;
}

/**
 * The Durable Object of a site's shard: `site:<id>:<shard>`. A site is split over N objects by
 * visitor (N = 1 unless the site was made with more): a hit goes to shard visitorId mod N. The
 * visitor id is a hash under the day's key, so a visitor keeps its shard all day and each
 * shard's daily uniques and visits are exact and add up. Daily keys live in shard 0.
 */
export const siteObjectName = (siteId: number, shard = 0): string => `site:${siteId}:${shard}`;

function siteStore(env: Env, siteId: number, shard = 0) {
  return env.SITES.get(env.SITES.idFromName(siteObjectName(siteId, shard)));
}

/** A visitor's shard of a site split over `n` objects. */
export const shardOf = (visitorId: bigint, n: number): number => (n > 1 ? Number(BigInt.asUintN(64, visitorId) % BigInt(n)) : 0);

function directory(env: Env) {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName('directory'));
}

/** Compares a bearer token with the expected one in constant time (as hashes: no length leak). */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/** Everything an isolate builds once: the app and its caches. */
function buildHost(env: Env, clock: () => number) {
  const precision: Precision = env.HUSH_IP_PRECISION === 'strict' ? 'strict' : 'default';
  const kFloor = Number(env.HUSH_MIN_K_FLOOR) > 0 ? Number(env.HUSH_MIN_K_FLOOR) : 2;
  const sites = new EdgeSites(() => directory(env).copy());
  const keys = new EdgeKeys((siteId, now) => siteStore(env, siteId).visitorKeys(now));
  const sink: HitSink = {
    async submit(hit: Hit) {
      const [r] = await siteStore(env, hit.siteId, shardOf(hit.visitorId, sites.shards(hit.siteId))).write([hit]);
      return r;
    },
  };
  const collector = new Collector({
    precision, sites, agents: new AgentCache(), clock, countries: unpackCountries(countriesBin), keys,
    resolver: new ClientIpResolver([]), sink,
    warm: (ev, now) => {
      const ids: number[] = [];
      for (const d of ev.domains) {
        const s = sites.get(d);
        if (s) ids.push(s.id);
      }
      return ids.length ? keys.warm(ids, now) : undefined;
    },
  });
  const beaconEtag = `"${createHash('sha256').update(beaconText).digest('base64url').slice(0, 22)}"`;
  const app = createApp({
    collector,
    sites,
    apiKeys: sites,
    // Node's report engine, run by the site's object over its own SQLite.
    query: async (site, body) => {
      const goals = await directory(env).goals(site.id);
      const n = sites.shards(site.id);
      if (n > 1) return shardedQuery(env, site, goals, body, n, clock());
      // (Workers' RPC types cannot map the response's open records: the shape is the object's.)
      const r = (await siteStore(env, site.id).report(
        { id: site.id, domain: site.domain, timezone: site.timezone, minVisitors: site.minVisitors }, goals, body, clock())) as unknown as
        { response?: QueryResponse; error?: string };
      if (r.error !== undefined || !r.response) throw new QueryError(r.error ?? 'the query could not be answered');
      return r.response;
    },
    exportCsv: () => { throw new Error('CSV export is not available at the edge yet'); },
    // Cloudflare sets CF-Connecting-IP to the client's address on every request it forwards.
    peer: (c) => c.req.header('cf-connecting-ip') ?? '',
    beacon: beaconText ? { body: beaconText, etag: beaconEtag } : null,
    privacy: () => privacyDocument(precision, kFloor, sites.list().filter((s) => s.listed === 1)),
    health: () => {
      const f = sites.failure;
      return f
        ? { store: 'failing', error: 'the directory object did not answer', code: f.error, since: new Date(f.since).toISOString(), runtime: 'workerd' }
        : { store: 'ok', runtime: 'workerd', key_sites: keys.size };
    },
    now: clock,
    logError: (m) => console.error(m),
  });

  // The admin API: what `hush site add` does on Node, for a deployment without a shell.
  const admin = new Hono();
  admin.use('*', async (c, next) => {
    if (!env.HUSH_ADMIN_TOKEN) return c.json({ error: 'not found' }, 404);
    if (!bearerMatches(c.req.header('authorization'), env.HUSH_ADMIN_TOKEN)) return c.json({ error: 'send "Authorization: Bearer <HUSH_ADMIN_TOKEN>"' }, 401);
    await next();
  });
  admin.get('/sites', async (c) => c.json({ sites: await directory(env).sites() }));
  admin.post('/sites', async (c) => {
    let body: Record<string, unknown>;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'the request body is not valid JSON' }, 400);
    }
    const num = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
    const r = await directory(env).addSite({
      domain: String(body.domain ?? ''),
      timezone: typeof body.timezone === 'string' ? body.timezone : undefined,
      minVisitors: num(body.min_visitors),
      retentionDays: num(body.retention_days),
      excludePaths: typeof body.exclude_paths === 'string' ? body.exclude_paths : undefined,
      listed: body.list_publicly === true ? 1 : 0,
      shards: body.shards === undefined ? undefined : typeof body.shards === 'number' ? body.shards : NaN,
    });
    if (!r.ok) return c.json({ error: r.error }, 400);
    await sites.reload();
    return c.json({ site: r.site }, 201);
  });
  // A Stats API key for a site (as `hush key add --site`), shown once.
  admin.post('/keys', async (c) => {
    const site = sites.byDomain(c.req.query('site') ?? '');
    if (!site) return c.json({ error: '"site": no such site' }, 404);
    const key = await directory(env).createKey(site.id);
    await sites.reload();
    return c.json({ key }, 201);
  });
  // The alarm's work on demand in every shard of a site, optionally as if at `now` (ms): deletes
  // keys older than yesterday, enforces the site's retention, builds rollups (tests set the clock).
  admin.post('/housekeeping', async (c) => {
    const now = Number(c.req.query('now') ?? Date.now());
    const siteId = Number(c.req.query('site_id'));
    if (!Number.isInteger(siteId) || !Number.isFinite(now)) return c.json({ error: '"site_id" and a numeric "now" are required' }, 400);
    const site = sites.byId(siteId);
    if (!site) return c.json({ error: '"site_id": no such site' }, 404);
    const settings = { id: site.id, domain: site.domain, timezone: site.timezone, retentionDays: site.retentionDays };
    const n = sites.shards(siteId);
    const shards = await Promise.all(Array.from({ length: n }, (_, i) => siteStore(env, siteId, i).housekeeping(now, settings)));
    return c.json({ shards });
  });
  app.route('/_hush/admin', admin);

  return { app, sites };
}

/**
 * A Stats API query over a site split over n objects: every shard reads its base sums, the
 * Worker adds them up and only then applies k-anonymity and derives the metrics (engine.ts
 * finish), so the answer is the one a single object holding every hit would give.
 */
async function shardedQuery(env: Env, site: Site, goals: Goal[], body: Record<string, unknown>, n: number, now: number): Promise<QueryResponse> {
  const shards = Array.from({ length: n }, (_, i) => siteStore(env, site.id, i));
  const s = { id: site.id, domain: site.domain, timezone: site.timezone, minVisitors: site.minVisitors };
  // "all" starts at the site's first event in any shard: asked of every shard only when the
  // query needs it (parseQuery calls for it), then parsed again with the answer.
  let first: number | null | undefined;
  let q: Query;
  try {
    q = parseQuery(body, site.timezone, now, () => { throw new NeedFirstEvent(); });
  } catch (e) {
    if (!(e instanceof NeedFirstEvent)) throw e;
    const firsts = await Promise.all(shards.map((o) => o.firstEvent({ id: site.id, timezone: site.timezone })));
    const known = firsts.filter((t): t is number => t !== null);
    const at = known.length ? Math.min(...known) : null;
    first = at;
    q = parseQuery(body, site.timezone, now, () => at);
  }
  const parts = (await Promise.all(shards.map((o) => o.sums(s, goals, body, now, first)))) as unknown as Array<{ sums?: QuerySums; error?: string }>;
  const bad = parts.find((p) => p.error !== undefined || !p.sums);
  if (bad) throw new QueryError(bad.error ?? 'the query could not be answered');
  return finish(s, q, mergeSums(parts.map((p) => p.sums!)));
}

class NeedFirstEvent extends Error {}

/**
 * The Worker's fetch handler over a clock. Production (the default export, wrangler.toml's main)
 * uses Date.now and nothing else; test/edge-clock-worker.ts, a separate entry that only tests
 * start, passes a clock set per request.
 */
export function makeWorker(clock: () => number = Date.now) {
  let host: ReturnType<typeof buildHost> | null = null;
  return {
    async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
      host ??= buildHost(env, clock);
      // The directory copy is refreshed before the request when stale (once per 10 s per isolate).
      await host.sites.fresh();
      return host.app.fetch(request, env, ctx as never);
    },
  };
}

export default makeWorker();
