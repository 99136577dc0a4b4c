// The Worker entry: Hush's own Hono app (server/app.ts) and collector (collector/*) on
// Cloudflare's runtime. What differs from Node is built here and passed in as values, as
// @hono/node-server's host does on Node: the client address (CF-Connecting-IP, which
// Cloudflare sets), the site directory and the daily keys (Durable Objects, cached per isolate),
// the country table (a packed binary module) and where hits go (the site's Durable Object).
// The raw IP is truncated in this isolate, inside the request; a site's object receives the
// finished hit — visitor hash, country, families — and nothing else. The account and dashboard
// pages are served by the directory object (it holds accounts and sessions); the Worker forwards
// them with the address replaced by its truncated prefix.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { page, SECURITY_HEADERS } from '../web/layout.ts';
import { truncateIp } from '../pseudonymize/truncate.ts';
import { edgeSettings, inJurisdiction } from './edge-config.ts';
import { ConfigError } from '../config.ts';
import { CLIENT_PREFIX_HEADER } from './directory-object.ts';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createApp } from '../server/app.ts';
import { Collector, type HitSink } from '../collector/collect.ts';
import { AgentCache } from '../collector/user-agent.ts';
import { ClientIpResolver } from '../collector/client-ip.ts';
import type { Hit } from '../collector/hit.ts';
import type { Precision } from '../pseudonymize/truncate.ts';
import { privacyDocument, type HostFacts } from '../privacy/document.ts';

/** Said at the edge only: the daily key's deletion is final on Node, not within Cloudflare's recovery window. */
const EDGE_FACTS: HostFacts = {
  keyBackups: "Cloudflare keeps every Durable Object's storage restorable to any point of the last 30 days (point-in-time recovery, no opt-out): until then a deleted key can be restored by whoever controls the Cloudflare account",
};
import { edgeQuery, shardOf, siteStore as siteStoreOf } from './edge-query.ts';
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
  /** Where Cloudflare keeps the objects: unset (anywhere) or "eu" (edge-config.ts; chosen before the first hit). */
  HUSH_JURISDICTION?: string;
  /** How long after a write a site object builds the rollups of its days (ms; default an hour, see site-object.ts). */
  HUSH_ROLLUP_MS?: string;
}

function siteStore(env: Env, siteId: number, shard = 0) {
  return siteStoreOf(inJurisdiction(env.SITES, env), siteId, shard);
}

function directory(env: Env) {
  const ns = inJurisdiction(env.DIRECTORY, env);
  return ns.get(ns.idFromName('directory'));
}

/** Compares a bearer token with the expected one in constant time (as hashes: no length leak). */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/** Everything an isolate builds once: the app and its caches. */
function buildHost(env: Env, clock: () => number) {
  // Node's settings, parsed by Node's loadConfig: the same defaults (k floor 3) and the same checks.
  const { precision, kFloor } = edgeSettings(env);
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
    query: async (site, body) => edgeQuery(inJurisdiction(env.SITES, env), site, await directory(env).goals(site.id), body, sites.shards(site.id), clock()),
    exportCsv: () => { throw new Error('CSV export is not available at the edge yet'); },
    // Cloudflare sets CF-Connecting-IP to the client's address on every request it forwards.
    peer: (c) => c.req.header('cf-connecting-ip') ?? '',
    beacon: beaconText ? { body: beaconText, etag: beaconEtag } : null,
    privacy: () => privacyDocument(precision, kFloor, sites.list().filter((s) => s.listed === 1), EDGE_FACTS),
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
  // A dashboard account (as `hush user add`): the first one is made here — the edge has no
  // first-run /setup page, which would let whoever finds a new deployment first claim it.
  admin.post('/users', async (c) => {
    let body: Record<string, unknown>;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'the request body is not valid JSON' }, 400);
    }
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    if (typeof body.email !== 'string') return c.json({ error: '"email" is required' }, 400);
    if (body.admin !== undefined && typeof body.admin !== 'boolean') return c.json({ error: '"admin" must be true or false' }, 400);
    const r = await directory(env).addUser({ email: body.email, password: str(body.password), admin: body.admin === true, site: str(body.site), role: str(body.role) });
    if (!r.ok) return c.json({ error: r.error }, 400);
    return c.json({ user: r.user, ...(r.site ? { site: r.site, role: r.role } : {}) }, r.created ? 201 : 200);
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

  // Node's first-run page makes the first account; here that is the admin API's job (above).
  const setup = async (c: Context) => {
    const none = (await directory(env).userCount()) === 0;
    const body = html`<section class="card"><h1>Set up Hush at the edge</h1>
<p>${none ? 'No account exists yet.' : 'The first account exists: log in.'} Accounts at the edge are made with the admin API, which
needs the deployment's <code>HUSH_ADMIN_TOKEN</code> secret (<code>wrangler secret put HUSH_ADMIN_TOKEN</code>):</p>
<pre><code>curl -X POST ${new URL(c.req.url).origin}/_hush/admin/users \
  -H "Authorization: Bearer $HUSH_ADMIN_TOKEN" \
  -d '{"email": "you@example.com", "password": "…", "admin": true}'</code></pre>
<p>See the README, "Running at the edge". <a href="/login">Log in</a></p></section>`;
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
    return c.html(page('Set up', body), none ? 200 : 404);
  };
  app.get('/setup', setup);
  app.post('/setup', setup);

  return { app, sites, precision };
}

/**
 * The Worker's fetch handler over a clock. Production (the default export, wrangler.toml's main)
 * uses Date.now and nothing else; test/edge-clock-worker.ts, a separate entry that only tests
 * start, passes a clock set per request.
 */
export function makeWorker(clock: () => number = Date.now) {
  let host: ReturnType<typeof buildHost> | null = null;
  return {
    async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
      try {
        host ??= buildHost(env, clock);
      } catch (e) {
        // A bad variable (wrangler.toml [vars]) says which, as Node's start-up does.
        if (e instanceof ConfigError) return Response.json({ error: `configuration: ${e.message}` }, { status: 500 });
        throw e;
      }
      if (!workerPath(new URL(request.url).pathname)) return toDirectory(request, env, host.precision);
      // The directory copy is refreshed before the request when stale (once per 10 s per isolate).
      await host.sites.fresh();
      return host.app.fetch(request, env, ctx as never);
    },
  };
}

/** The paths the Worker answers itself: the endpoints, the Stats API, the admin API; the rest are pages. */
function workerPath(p: string): boolean {
  return p === '/api/event' || p === '/api/event.gif' || p === '/hush.js' || p === '/healthz' || p === '/api/privacy' || p === '/setup'
    || p.startsWith('/api/v2/') || p.startsWith('/_hush/');
}

/** Headers that may carry the client's address: none of them leaves the Worker. */
const ADDRESS_HEADERS = ['cf-connecting-ip', 'cf-connecting-ipv6', 'true-client-ip', 'x-real-ip', 'x-forwarded-for', 'forwarded', 'cf-pseudo-ipv4'];

/**
 * A page request, passed to the directory object that serves the pages: the client's address is
 * truncated here (as every hit's is) and only its prefix goes along, for the login limiter.
 */
function toDirectory(request: Request, env: Env, precision: Precision): Promise<Response> {
  const headers = new Headers(request.headers);
  const prefix = truncateIp(request.headers.get('cf-connecting-ip') ?? '', precision)?.text ?? 'unknown';
  for (const h of ADDRESS_HEADERS) headers.delete(h);
  headers.set(CLIENT_PREFIX_HEADER, prefix);
  // (The stub's fetch is typed with workers-types' Request and Response; these are the runtime's own.)
  return directory(env).fetch(new Request(request, { headers }) as never) as unknown as Promise<Response>;
}

export default makeWorker();
