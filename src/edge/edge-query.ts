// Stats API queries at the edge, for whoever asks them: the Worker (POST /api/v2/query) and the
// directory object (the dashboard's pages). A site held by one object: that object runs Node's
// report engine over its SQLite. A site split over n objects: every shard reads its additive base
// sums, they are added up here and only then k-anonymity is applied and the metrics derived
// (engine.ts finish), so the answer is the one a single object holding every hit would give.
import { QueryError } from '../reports/query-error.ts';
import { finish, mergeSums, type QueryResponse, type QuerySums } from '../reports/engine.ts';
import { parseQuery, type Query } from '../reports/query.ts';
import type { Site } from '../store/sites.ts';
import type { Goal } from '../store/goals.ts';
import type { DurableObjectNamespace } from './cf-types.ts';
import type { SiteStore } from './site-object.ts';

/**
 * The Durable Object of a site's shard: `site:<id>:<shard>`. A site is split over N objects by
 * visitor (N = 1 unless the site was made with more): a hit goes to shard visitorId mod N. The
 * visitor id is a hash under the day's key, so a visitor keeps its shard all day and each
 * shard's daily uniques and visits are exact and add up. Daily keys live in shard 0.
 */
export const siteObjectName = (siteId: number, shard = 0): string => `site:${siteId}:${shard}`;

export function siteStore(sites: DurableObjectNamespace<SiteStore>, siteId: number, shard = 0) {
  return sites.get(sites.idFromName(siteObjectName(siteId, shard)));
}

/** A visitor's shard of a site split over `n` objects. */
export const shardOf = (visitorId: bigint, n: number): number => (n > 1 ? Number(BigInt.asUintN(64, visitorId) % BigInt(n)) : 0);

type ReportSite = Pick<Site, 'id' | 'domain' | 'timezone' | 'minVisitors'>;
const reportSite = (site: ReportSite): ReportSite => ({ id: site.id, domain: site.domain, timezone: site.timezone, minVisitors: site.minVisitors });

/** A Stats API query over a site held by `shards` objects (throws QueryError when refused). */
export async function edgeQuery(ns: DurableObjectNamespace<SiteStore>, site: ReportSite, goals: Goal[], body: Record<string, unknown>,
  shards: number, now: number): Promise<QueryResponse> {
  if (shards > 1) return shardedQuery(ns, reportSite(site), goals, body, shards, now);
  // (Workers' RPC types cannot map the response's open records: the shape is the object's.)
  const r = (await siteStore(ns, site.id).report(reportSite(site), goals, body, now)) as unknown as { response?: QueryResponse; error?: string };
  if (r.error !== undefined || !r.response) throw new QueryError(r.error ?? 'the query could not be answered');
  return r.response;
}

async function shardedQuery(ns: DurableObjectNamespace<SiteStore>, s: ReportSite, goals: Goal[], body: Record<string, unknown>, n: number,
  now: number): Promise<QueryResponse> {
  const shards = Array.from({ length: n }, (_, i) => siteStore(ns, s.id, i));
  // "all" starts at the site's first event in any shard: asked of every shard only when the
  // query needs it (parseQuery calls for it), then parsed again with the answer.
  let first: number | null | undefined;
  let q: Query;
  try {
    q = parseQuery(body, s.timezone, now, () => { throw new NeedFirstEvent(); });
  } catch (e) {
    if (!(e instanceof NeedFirstEvent)) throw e;
    const firsts = await Promise.all(shards.map((o) => o.firstEvent({ id: s.id, timezone: s.timezone })));
    const known = firsts.filter((t): t is number => t !== null);
    const at = known.length ? Math.min(...known) : null;
    first = at;
    q = parseQuery(body, s.timezone, now, () => at);
  }
  const parts = (await Promise.all(shards.map((o) => o.sums(s, goals, body, now, first)))) as unknown as Array<{ sums?: QuerySums; error?: string }>;
  const bad = parts.find((p) => p.error !== undefined || !p.sums);
  if (bad) throw new QueryError(bad.error ?? 'the query could not be answered');
  return finish(s, q, mergeSums(parts.map((p) => p.sums!)));
}

class NeedFirstEvent extends Error {}

/** The custom property keys of an event in a period, over every shard (at most 10, as on Node). */
export async function edgePropKeys(ns: DurableObjectNamespace<SiteStore>, site: Pick<Site, 'id' | 'timezone'>, eventName: string,
  dateRange: unknown, shards: number, now: number): Promise<string[]> {
  const lists = await Promise.all(Array.from({ length: shards }, (_, i) =>
    siteStore(ns, site.id, i).propKeys({ id: site.id, timezone: site.timezone }, eventName, dateRange as never, now)));
  return [...new Set(lists.flat())].sort().slice(0, 10);
}
