// The Hono app: every HTTP route of Hush. Runtime-neutral — the peer address comes from an
// injected function (GetConnInfo on Node), so the same app can run on an edge runtime.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Collector, EventRequest } from '../collector/collect.ts';
import { collectResponse, PREFLIGHT } from './event-response.ts';
import { limitBodies } from './body-limits.ts';
import type { Asset } from './static-assets.ts';
import { pixel } from './pixel.ts';
import { QueryError } from '../reports/query-error.ts';
import type { QueryResponse } from '../reports/engine.ts';
import type { ExportParams } from '../reports/export.ts';
import type { FunnelResponse } from '../reports/funnel.ts';
import type { Site } from '../store/sites.ts';
import { authRoutes, type AuthDeps } from '../web/auth-routes.ts';
import { homeRoutes } from '../web/home.ts';
import { dashboardRoutes, type DashboardDeps } from '../web/dashboard.ts';
import { settingsRoutes, type SettingsDeps } from '../web/settings.ts';
import { privacyRoutes, type PrivacyPageDeps } from '../web/privacy-page.ts';
import { sharedRoutes } from '../web/shared.ts';
import { accountRoutes } from '../web/account.ts';

/** What the API routes read of the sites. */
export interface SiteLookup {
  byDomain(domain: string): Site | undefined;
  byId(id: number): Site | undefined;
}

/** What the API routes read of the Stats API keys. */
export interface ApiKeyLookup {
  siteFor(key: string): { siteId: number; domain: string } | undefined;
}

export interface AppDeps {
  /** The event endpoints' pipeline; absent where an app serves only pages (the edge's directory object). */
  collector?: Collector;
  /** Runs a Stats API query for a site the caller may read (throws QueryError when invalid). */
  query: (site: Site, body: Record<string, unknown>) => QueryResponse | Promise<QueryResponse>;
  /** The CSV lines of one report (GET /api/v2/export). */
  exportCsv: (site: Site, params: ExportParams) => string[] | Promise<string[]>;
  /** Runs a funnel report (POST /api/v2/funnel, the dashboard's funnel panel); absent: no funnels. */
  funnel?: (site: Site, body: Record<string, unknown>) => FunnelResponse | Promise<FunnelResponse>;
  /** The sites the API routes look up (SiteRepo on Node; the isolate's copy of the directory at the edge). */
  sites: SiteLookup;
  /** Stats API keys: the site a bearer key grants. */
  apiKeys: ApiKeyLookup;
  /** The socket peer address of the request. */
  peer: (c: Context) => string;
  /** public/hush.js as built, or null when it is missing. */
  beacon?: Asset | null;
  /** The public privacy document (GET /api/privacy). */
  privacy?: () => Record<string, unknown>;
  /** Extra facts for /healthz; `store: 'failing'` turns the answer into a 503. */
  health?: () => Record<string, unknown>;
  /** GET /metrics behind a bearer token; absent: /metrics answers 404. */
  metrics?: { token: string; registry: { contentType: string; text(): Promise<string> } };
  now?: () => number;
  /** Accounts and the dashboard's pages; absent in tools that serve only the API. */
  web?: AuthDeps & Pick<SettingsDeps, 'sites' | 'apiKeys' | 'goals' | 'kFloor' | 'timezoneChanged' | 'links' | 'funnels'> & Pick<PrivacyPageDeps, 'precision' | 'keyCreatedAt'>
    & Pick<DashboardDeps, 'propKeys'>;
  /** Where unexpected errors are reported (never with request bodies or addresses). */
  logError?: (message: string) => void;
}

/** The request facts the collector needs, from standard headers. */
export function eventRequest(headers: Headers, peer: string): EventRequest {
  return {
    peer,
    forwardedFor: headers.get('x-forwarded-for'),
    userAgent: headers.get('user-agent'),
    acceptLanguage: headers.get('accept-language'),
    dnt: headers.get('dnt'),
    gpc: headers.get('sec-gpc'),
  };
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;

  // Before any route: no handler ever buffers more than its path's limit.
  app.use('*', limitBodies);

  const collector = deps.collector;
  if (collector) {
    app.options('/api/event', () => new Response(null, { status: 204, headers: PREFLIGHT }));

    app.post('/api/event', async (c) => {
      const body = await c.req.text();
      const r = collectResponse(await collector.collectBody(body, eventRequest(c.req.raw.headers, deps.peer(c))));
      return new Response(r.body, { status: r.status, headers: r.headers });
    });

    app.get('/api/event.gif', (c) => pixel(c, collector, eventRequest(c.req.raw.headers, deps.peer(c))));
  }

  // The page script: revalidated daily against a content-hash ETag, so an upgrade reaches
  // every site within a day while repeat visits cost a 304 at most.
  app.get('/hush.js', (c) => {
    const asset = deps.beacon;
    if (!asset) return c.json({ error: 'hush.js has not been built: run `npm run build`' }, 404);
    const headers = {
      'Content-Type': 'application/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=86400, stale-while-revalidate=604800',
      ETag: asset.etag,
      'Access-Control-Allow-Origin': '*',
      'Cross-Origin-Resource-Policy': 'cross-origin',
    };
    if (c.req.header('if-none-match') === asset.etag) return new Response(null, { status: 304, headers });
    return new Response(asset.body, { status: 200, headers });
  });

  app.get('/api/privacy', (c) => {
    c.header('Access-Control-Allow-Origin', '*');
    return c.json(deps.privacy?.() ?? {});
  });

  // A load balancer or monitor reads the status code: 503 while hits cannot be stored.
  app.get('/healthz', (c) => {
    const h = deps.health?.() ?? {};
    const failing = h.store === 'failing';
    return c.json({ status: failing ? 'degraded' : 'ok', ...h }, failing ? 503 : 200);
  });

  if (deps.metrics) {
    const m = deps.metrics;
    const expected = createHash('sha256').update(m.token).digest();
    app.get('/metrics', async (c) => {
      const auth = c.req.header('authorization') ?? '';
      const given = createHash('sha256').update(auth.startsWith('Bearer ') ? auth.slice(7).trim() : '').digest();
      // Compared as hashes in constant time: neither the length nor a prefix of the token leaks.
      if (!timingSafeEqual(given, expected)) {
        return c.json({ error: 'this endpoint needs "Authorization: Bearer <HUSH_METRICS_TOKEN>"' }, 401, { 'WWW-Authenticate': 'Bearer' });
      }
      return c.body(await m.registry.text(), 200, { 'Content-Type': m.registry.contentType, 'Cache-Control': 'no-store' });
    });
  }

  /** The grant of the request's bearer key, or the 401 answer. */
  const keyGrant = (c: Context): { domain: string } | Response => {
    const auth = c.req.header('authorization') ?? '';
    const key = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (!key) return c.json({ error: 'missing API key: send "Authorization: Bearer <key>" (create one with `hush key add --site <domain>`)' }, 401);
    return deps.apiKeys.siteFor(key) ?? c.json({ error: 'invalid API key' }, 401);
  };
  /** The site the request names, if its key grants it; otherwise the 400/401/403/404 answer. */
  const authorize = (c: Context, siteId: unknown): Site | Response => {
    const grant = keyGrant(c);
    if (grant instanceof Response) return grant;
    if (typeof siteId !== 'string' || !siteId) return c.json({ error: '"site_id" is required' }, 400);
    if (siteId !== grant.domain) return c.json({ error: `"site_id": this key does not grant access to ${JSON.stringify(siteId.slice(0, 100))}` }, 403);
    return deps.sites.byDomain(grant.domain) ?? c.json({ error: '"site_id": no such site' }, 404);
  };
  const badQuery = (c: Context, e: unknown) => {
    if (e instanceof QueryError) return c.json({ error: e.message }, 400);
    throw e;
  };

  /** A Stats API POST: a key, a JSON object body naming its site, then `run` (a QueryError is a 400). */
  const statsPost = (run: (site: Site, q: Record<string, unknown>) => unknown) => async (c: Context) => {
    const grant = keyGrant(c);
    if (grant instanceof Response) return grant;
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'the request body is not valid JSON' }, 400);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return c.json({ error: 'the request body must be a JSON object' }, 400);
    const q = body as Record<string, unknown>;
    const site = authorize(c, q.site_id);
    if (site instanceof Response) return site;
    try {
      const answer = run(site, q);
      if (answer === null) return c.json({ error: 'funnels are not available here' }, 404);
      return c.json(await answer);
    } catch (e) {
      return badQuery(c, e);
    }
  };

  app.post('/api/v2/query', statsPost((site, q) => deps.query(site, q)));
  // A funnel: {site_id, funnel: name | steps: [{page}|{event}], date_range, filters} (README, Funnels).
  app.post('/api/v2/funnel', statsPost((site, q) => (deps.funnel ? deps.funnel(site, q) : null)));

  // One report as CSV: ?site_id=…&date_range=30d|from,to&dimension=visit:country
  app.get('/api/v2/export', async (c) => {
    const site = authorize(c, c.req.query('site_id'));
    if (site instanceof Response) return site;
    let lines: string[];
    try {
      lines = await deps.exportCsv(site, { dimension: c.req.query('dimension'), date_range: c.req.query('date_range') });
    } catch (e) {
      return badQuery(c, e);
    }
    const enc = new TextEncoder();
    let i = 0;
    // Streamed in chunks of 1,000 lines: a big pages report never becomes one huge string.
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (i >= lines.length) return ctrl.close();
        ctrl.enqueue(enc.encode(lines.slice(i, i + 1000).join('')));
        i += 1000;
      },
    });
    const name = `${site.domain}-${(c.req.query('dimension') ?? 'visitors').replace(/[^a-z0-9]+/gi, '_')}.csv`;
    return new Response(stream, {
      headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}"` },
    });
  });

  if (deps.web) {
    authRoutes(app, deps.web);
    homeRoutes(app, deps.web);
    accountRoutes(app, deps.web);
    const web = deps.web;
    const hasGoals = (id: number) => web.goals.list(id).length > 0;
    dashboardRoutes(app, { ...web, siteByDomain: (d) => deps.sites.byDomain(d), query: deps.query, hasGoals, funnel: deps.funnel });
    sharedRoutes(app, { ...web, siteById: (id) => deps.sites.byId(id), query: deps.query, hasGoals, funnel: deps.funnel });
    settingsRoutes(app, web);
    privacyRoutes(app, { ...web, siteByDomain: (d) => deps.sites.byDomain(d) });
  }

  app.notFound((c) => c.json({ error: 'not found' }, 404));

  app.onError((err, c) => {
    if (err instanceof HTTPException) return c.json({ error: err.message || 'bad request' }, err.status);
    // The client went away or was cut off by the request timeout while its body was read:
    // not our error, and nobody is left to read the answer.
    if (c.req.raw.signal.aborted) return c.json({ error: 'the request was not received in full' }, 400);
    // Name and message only: a stack or a request body could carry what must not be logged.
    deps.logError?.(`internal error on ${c.req.method} ${c.req.path}: ${err.name}`);
    return c.json({ error: 'internal error' }, 500);
  });

  return app;
}
