// Referrer → host, path, source name and channel. Search engines and social networks come
// from Matomo's lists (CC0), referrer spam from Matomo's spam list (public domain), generated
// into lists/referrer-lists.json by scripts/gen-referrer-lists.ts. Verdicts per host are cached.
import lists from './lists/referrer-lists.json' with { type: 'json' };
import { Lru, ownCopy } from './lru.ts';
import { parts, splitSimpleUrl } from './simple-url.ts';

export type Channel = 'search' | 'social' | 'email' | 'paid' | 'direct' | 'referral';

export interface Utm {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  content: string | null;
  term: string | null;
}

export interface Acquisition {
  referrerHost: string | null;
  referrerPath: string | null;
  source: string | null;
  channel: Channel;
}

type HostKind = { kind: 'search' | 'social' | 'spam' | 'other'; name: string | null };

const searchExact = new Map<string, string>();
const searchWild: Array<[RegExp, string]> = [];
for (const [pattern, name] of Object.entries(lists.searchEngines as Record<string, string>)) {
  if (pattern.includes('/')) continue; // app-style entries, not hosts
  if (pattern.includes('{}')) {
    // `{}` stands for a TLD (google.{} → google.co.uk) or one label ({}.ask.com).
    const re = pattern.split('{}').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('(?:[a-z0-9-]+(?:\\.[a-z]{2,3})?)');
    searchWild.push([new RegExp(`^${re}$`), name]);
  } else searchExact.set(pattern, name);
}
const searchNames = new Set<string>([...searchExact.values(), ...searchWild.map(([, n]) => n)].map((n) => n.toLowerCase()));
const socialHosts = new Map<string, string>(Object.entries(lists.socials as Record<string, string>));
const socialNames = new Set<string>([...socialHosts.values()].map((n) => n.toLowerCase()));
const spamHosts = new Set<string>(lists.spam as string[]);

/** Strips `www.` and `m.`-style noise so `www.google.com` and `google.com` are one source. */
export function bareHost(host: string): string {
  return host.startsWith('www.') ? host.slice(4) : host;
}

/** The host and each parent domain: a.b.example.com → [a.b.example.com, b.example.com, example.com]. */
function* suffixes(host: string): Generator<string> {
  let h = host;
  for (;;) {
    yield h;
    const dot = h.indexOf('.');
    if (dot < 0 || h.indexOf('.', dot + 1) < 0) return;
    h = h.slice(dot + 1);
  }
}

/** The longest DNS name. Walking the parent domains of a longer "host" costs ~6 ms per hit. */
const MAX_HOST = 253;

function classifyHost(host: string): HostKind {
  if (host.length > MAX_HOST) return { kind: 'other', name: null };
  for (const h of suffixes(host)) if (spamHosts.has(h)) return { kind: 'spam', name: null };
  const exact = searchExact.get(host) ?? searchExact.get(`www.${host}`);
  if (exact) return { kind: 'search', name: exact };
  for (const [re, name] of searchWild) if (re.test(host) || re.test(`www.${host}`)) return { kind: 'search', name };
  for (const h of suffixes(host)) {
    const s = socialHosts.get(h);
    if (s) return { kind: 'social', name: s };
  }
  return { kind: 'other', name: null };
}

const hostCache = new Lru<string, HostKind>(10000);
function hostKind(host: string): HostKind {
  let k = hostCache.get(host);
  if (!k) {
    k = classifyHost(host);
    hostCache.set(ownCopy(host), k); // a copy: a slice would keep the whole referrer URL cached
  }
  return k;
}

const PAID = new Set(['cpc', 'ppc', 'paid', 'paidsearch', 'paid_search', 'paid-search', 'cpm', 'cpv', 'cpa', 'display', 'banner', 'retargeting', 'paid_social', 'paidsocial', 'paid-social', 'ads']);
const EMAIL = new Set(['email', 'e-mail', 'e_mail', 'mail', 'newsletter']);

/** True when the referrer host is on the referrer-spam list (or a subdomain of a listed host). */
export function isSpamReferrer(referrerHost: string | null): boolean {
  return referrerHost !== null && hostKind(referrerHost).kind === 'spam';
}

/**
 * Where the visit came from.
 * @param referrer the raw referrer URL (may be empty)
 * @param pageHost the page's own host: a referrer from the same host is a self-referral → direct
 * @param utm the page URL's utm_* parameters
 * @param refParam the page URL's `ref` or `source` parameter (a source name, like utm_source)
 */
export function acquisition(referrer: string | null, pageHost: string, utm: Utm, refParam: string | null): Acquisition {
  let referrerHost: string | null = null, referrerPath: string | null = null;
  if (referrer) {
    let host: string | null = null, path = '/';
    if (splitSimpleUrl(referrer, 'any')) { // a plain http(s) URL: what `new URL` gives, by hand
      host = referrer.slice(parts.hostStart, parts.hostEnd);
      if (parts.pathEnd > parts.hostEnd) path = referrer.slice(parts.hostEnd, parts.pathEnd);
    } else {
      try {
        const u = new URL(referrer);
        host = u.hostname.toLowerCase();
        path = u.pathname || '/';
      } catch {
        // not a URL: treated as no referrer
      }
    }
    if (host !== null) {
      host = bareHost(host);
      if (host && host !== bareHost(pageHost)) {
        referrerHost = host;
        referrerPath = path;
      }
    }
  }
  const kind = referrerHost ? hostKind(referrerHost) : null;
  const source = utm.source ?? refParam ?? kind?.name ?? referrerHost;
  const medium = utm.medium?.toLowerCase() ?? null;
  const sourceLc = source?.toLowerCase() ?? null;
  let channel: Channel;
  if (medium && (PAID.has(medium) || medium.startsWith('paid'))) channel = 'paid';
  else if ((medium && EMAIL.has(medium)) || (sourceLc && EMAIL.has(sourceLc))) channel = 'email';
  else if (kind?.kind === 'search') channel = 'search';
  else if (kind?.kind === 'social') channel = 'social';
  // No recognised referrer: a utm_source/ref naming a known network still tells the channel.
  else if (sourceLc && socialNames.has(sourceLc)) channel = 'social';
  else if (sourceLc && searchNames.has(sourceLc)) channel = 'search';
  else if (source) channel = 'referral';
  else channel = 'direct';
  return { referrerHost, referrerPath, source, channel };
}
