// The hit pipeline: a validated event plus its request context → one normalised hit per target
// site, or the named reason it was dropped. The steps run in a fixed order, cheapest and most
// privacy-protective first: opt-out before anything is looked at, bots before any hashing.
// The raw IP and the full user-agent end in this file: truncation happens before the country
// lookup and the hash, and the hit that leaves holds neither.
import type { EventInput } from './payload.ts';
import type { Hit, DropReason } from './hit.ts';
import { parsePage, type Page } from './page-url.ts';
import { acquisition, isSpamReferrer, type Acquisition, type Utm } from './referrer.ts';
import { languageFromHeader, normalizeLanguage } from './language.ts';
import { screenClass } from './screen.ts';
import type { AgentCache } from './user-agent.ts';
import { truncateIp, type IpPrefix, type Precision } from '../pseudonymize/truncate.ts';
import { lookupCountry, type CountryTables } from '../pseudonymize/country.ts';
import { DAY_MS } from '../pseudonymize/daily-keys.ts';
import { visitorId } from '../pseudonymize/visitor-id.ts';
import { VISIT_GAP_MS } from '../store/visits.ts';
import type { PathTest } from '../matchers/glob.ts';
import { scrub, scrubHost } from '../privacy/personal-data.ts';

/**
 * The daily keys of visitor ids. Node's KeyRing holds one key a day for every site (the site is
 * in each hash input anyway) and ignores `siteId`; the edge keeps each site's keys in that site's
 * Durable Object, so a key is asked for per site.
 */
export interface VisitorKeys {
  current(now: number, siteId: number): Buffer;
  previous(now: number, siteId: number): Buffer | null;
}

/** What the pipeline needs from the rest of the system. */
export interface PipelineDeps {
  precision: Precision;
  sites: { get(domain: string): { id: number; exclude: PathTest | null } | undefined };
  agents: AgentCache;
  countries: CountryTables;
  keys: VisitorKeys;
  /** Cached versions of the pure steps, for a caller whose hits repeat their values (the import). */
  memo?: PipelineMemo;
}

/**
 * Each function must return exactly what the step it replaces returns for the same arguments
 * (parsePage, acquisition, lookupCountry, visitorId, scrub, scrubHost); results are only read.
 * `hush import` caches them: a log repeats its pages, referrers, networks and visitors, and these
 * steps were ~70 % of its pipeline's CPU. The hit path has no memo (each hit pays once).
 */
export interface PipelineMemo {
  page(url: string, hashMode: boolean): Page | null;
  acquisition(referrer: string | null, pageHost: string, utm: Utm, refParam: string | null): Acquisition;
  country(prefix: IpPrefix): string | null;
  visitorId(key: Buffer, siteId: number, prefix: string, userAgent: string): bigint;
  scrub(text: string | null): string | null;
  scrubHost(host: string): string;
}

/** The request-side facts about a hit. `ip` is the raw client address: handle with care. */
export interface HitContext {
  ip: string;
  userAgent: string;
  acceptLanguage: string | null;
  /** DNT: 1 or Sec-GPC: 1 was sent. */
  optOut: boolean;
  now: number;
  sourceType: 'script' | 'log';
  /** `ip` already truncated with deps.precision (the import truncates each line first), if so. */
  prefix?: IpPrefix;
}

export type PipelineResult =
  | { kind: 'hits'; hits: Hit[] }
  | { kind: 'drop'; reason: DropReason }
  | { kind: 'invalid'; error: string };

type SiteRef = NonNullable<ReturnType<PipelineDeps['sites']['get']>>;

/** One frozen result per drop reason: a bot's line allocates nothing for it. */
const drops = new Map<DropReason, PipelineResult>();
function dropped(reason: DropReason): PipelineResult {
  let r = drops.get(reason);
  if (!r) drops.set(reason, (r = Object.freeze({ kind: 'drop', reason } as const)));
  return r;
}
const INVALID_URL: PipelineResult = Object.freeze({ kind: 'invalid', error: '"url" must be an absolute http(s) URL' } as const);

/** Props with keys and values scrubbed: a beacon is the site's code, but anyone can send one. */
function scrubProps(props: Record<string, string>): Record<string, string> {
  let changed = false;
  const out: Record<string, string> = {};
  for (const k in props) {
    const key = scrub(k), v = scrub(props[k]);
    if (key !== k || v !== props[k]) changed = true;
    out[key] = v;
  }
  return changed ? out : props;
}

export function runPipeline(ev: EventInput, ctx: HitContext, deps: PipelineDeps): PipelineResult {
  if (ctx.optOut) return dropped('opt_out');
  const memo = deps.memo;

  const page = memo ? memo.page(ev.url, ev.hashMode) : parsePage(ev.url, ev.hashMode);
  if (!page) return INVALID_URL;

  // Loops rather than push/filter/map with closures: those arrays and the closures' context
  // were ~670 bytes per hit (allocation sampling, 100k import lines), more than the hit itself.
  const domains = ev.domains;
  const sites: SiteRef[] = new Array(domains.length);
  let n = 0;
  for (let i = 0; i < domains.length; i++) {
    const s = deps.sites.get(domains[i]);
    if (s) sites[n++] = s;
  }
  if (n === 0) return dropped('unknown_site');

  const agent = deps.agents.get(ctx.userAgent);
  if (agent.bot) return dropped('bot');

  let kept = 0;
  for (let i = 0; i < n; i++) {
    const s = sites[i];
    if (!s.exclude || !s.exclude.test(page.pathname)) sites[kept++] = s;
  }
  if (kept === 0) return dropped('excluded');

  const acq = memo ? memo.acquisition(ev.referrer, page.hostname, page.utm, page.refParam) : acquisition(ev.referrer, page.hostname, page.utm, page.refParam);
  if (isSpamReferrer(acq.referrerHost)) return dropped('referrer_spam');

  // Pseudonymise: from here on only the prefix exists.
  const prefix = ctx.prefix ?? truncateIp(ctx.ip, deps.precision);
  const prefixText = prefix ? prefix.text : '';
  const country = prefix ? (memo ? memo.country(prefix) : lookupCountry(deps.countries, prefix)) : null;
  // Only a visit that was active before UTC midnight can continue under yesterday's id.
  const nearMidnight = ctx.now % DAY_MS < VISIT_GAP_MS;

  const language = normalizeLanguage(ev.language) ?? languageFromHeader(ctx.acceptLanguage);
  const props = ev.props ? JSON.stringify(scrubProps(ev.props)) : null;
  // Nothing a visitor sends is stored with an IP address, e-mail address or user-agent in it
  // (the page https://203.0.113.99/x is stored as host "[ip]"): see privacy/personal-data.ts.
  const scrubText = memo ? memo.scrub : scrub, id = memo ? memo.visitorId : visitorId;
  const hostname = memo ? memo.scrubHost(page.hostname) : scrubHost(page.hostname), pathname = scrubText(page.pathname)!;
  const utm = page.utm;
  const hits: Hit[] = new Array(kept);
  for (let i = 0; i < kept; i++) {
    const s = sites[i];
    const prevKey = nearMidnight ? deps.keys.previous(ctx.now, s.id) : null;
    hits[i] = {
      siteId: s.id,
      ts: ctx.now,
      visitorId: id(deps.keys.current(ctx.now, s.id), s.id, prefixText, ctx.userAgent),
      prevVisitorId: prevKey ? id(prevKey, s.id, prefixText, ctx.userAgent) : null,
      name: scrubText(ev.name)!,
      hostname,
      pathname,
      referrerHost: acq.referrerHost && (memo ? memo.scrubHost(acq.referrerHost) : scrubHost(acq.referrerHost)),
      referrerPath: scrubText(acq.referrerPath),
      source: scrubText(acq.source),
      channel: acq.channel,
      utmSource: scrubText(utm.source),
      utmMedium: scrubText(utm.medium),
      utmCampaign: scrubText(utm.campaign),
      utmContent: scrubText(utm.content),
      utmTerm: scrubText(utm.term),
      country,
      browser: agent.browser,
      browserVersion: agent.browserVersion,
      os: agent.os,
      osVersion: agent.osVersion,
      device: agent.device,
      language,
      screen: screenClass(ev.screenWidth),
      bytes: ev.bytes,
      status: ev.status,
      loadMs: ev.loadMs,
      engagementMs: ev.engagementMs,
      scrollDepth: ev.scrollDepth ?? null,
      props,
      revenueAmount: ev.revenue ? ev.revenue.amount : null,
      revenueCurrency: ev.revenue ? ev.revenue.currency : null,
      interactive: ev.interactive,
      sourceType: ctx.sourceType,
    };
  }
  return { kind: 'hits', hits };
}
