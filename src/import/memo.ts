// The import's cache of the pipeline's pure steps (PipelineMemo): an access log repeats its
// pages, referrers, client networks and visitors line after line (the 1M-line bench: 12 paths,
// 5 referrers, ~5,700 prefix/user-agent pairs a day), and these steps — the visitor HMAC, URL
// parsing, the personal-data scrub, the country search — were ~70 % of the pipeline's CPU per
// line (9–12 µs). Each cache is the step's own function behind a two-generation LRU, so a value
// is computed once while it keeps recurring and memory stays bounded; long values are not kept.
// Nothing here is stored or printed: visitor messages (IP prefix and user-agent) live only in
// memory, like the user-agent cache, and the entries of a daily key go when that key is replaced.
// Texts cut from a log line are kept as copies (ownCopy), never as views of the line.
import type { PipelineMemo } from '../collector/pipeline.ts';
import { parsePage, type Page } from '../collector/page-url.ts';
import { acquisition, type Acquisition, type Utm } from '../collector/referrer.ts';
import { Lru, ownCopy } from '../collector/lru.ts';
import { lookupCountry, type CountryTables } from '../pseudonymize/country.ts';
import { parseIPv4, PREFIX_BITS, truncateIp, type IpPrefix, type Precision } from '../pseudonymize/truncate.ts';
import { hmac64, visitorMessage } from '../pseudonymize/visitor-id.ts';
import { scrub, scrubHost } from '../privacy/personal-data.ts';

/** Values longer than this are computed each time, not kept (a hostile log cannot fill memory). */
const MAX_KEY = 1024;
/** Visitors (prefix + user-agent) per daily key and site. */
const VISITORS = 20_000;
const VALUES = 4_000;

/**
 * Two-level cache, a → b → value, in two generations like Lru (a value used in the last
 * generation is copied forward). Two lookups by the strings a line already has — its user-agent
 * and IP prefix — instead of one by a key built per line: a 180-character visitor message built
 * and hashed per line cost 1.6 µs against 0.3 µs (300k bench lines).
 */
class Lru2<V> {
  private cur = new Map<string, Map<string, V>>();
  private old = new Map<string, Map<string, V>>();
  private size = 0;
  constructor(private readonly capacity: number) {}

  get(a: string, b: string): V | undefined {
    const v = this.cur.get(a)?.get(b);
    if (v !== undefined) return v;
    const o = this.old.get(a)?.get(b);
    if (o !== undefined) this.set(a, b, o);
    return o;
  }

  set(a: string, b: string, value: V): void {
    if (this.size >= this.capacity / 2) {
      this.old = this.cur;
      this.cur = new Map();
      this.size = 0;
    }
    let inner = this.cur.get(a);
    if (!inner) this.cur.set(a, (inner = new Map()));
    inner.set(b, value);
    this.size++;
  }
}

export class ImportMemo implements PipelineMemo {
  private readonly pages = new Lru<string, Page | null>(VALUES);
  private readonly hashPages = new Lru<string, Page | null>(VALUES);
  /** Page host → referrer ('' for none) → acquisition, for pages without campaign parameters. */
  private readonly acquisitions = new Lru2<Acquisition>(VALUES);
  private readonly countries = new Lru<string, string | null>(VISITORS);
  private readonly scrubbed = new Lru<string, string>(VALUES);
  private readonly hosts = new Lru<string, string>(VALUES);
  /** Per daily key (today's and yesterday's: two at most) and site: user-agent → prefix → id. */
  private readonly ids = new Map<Buffer, Map<number, Lru2<bigint>>>();

  constructor(private readonly tables: CountryTables) {}

  page = (url: string, hashMode: boolean): Page | null => {
    if (url.length > MAX_KEY) return parsePage(url, hashMode);
    const lru = hashMode ? this.hashPages : this.pages;
    let p = lru.get(url);
    if (p === undefined) lru.set(ownCopy(url), (p = parsePage(url, hashMode)));
    return p;
  };

  acquisition = (referrer: string | null, pageHost: string, utm: Utm, refParam: string | null): Acquisition => {
    // Campaign-tagged pages are the rarer case: only untagged ones are keyed by referrer and host.
    if (refParam !== null || utm.source !== null || utm.medium !== null || utm.campaign !== null || utm.content !== null || utm.term !== null
      || (referrer !== null && referrer.length > MAX_KEY) || pageHost.length > MAX_KEY) {
      return acquisition(referrer, pageHost, utm, refParam);
    }
    const ref = referrer ?? ''; // '' is no referrer too (acquisition ignores a falsy one)
    let a = this.acquisitions.get(pageHost, ref);
    if (a === undefined) this.acquisitions.set(pageHost, ownCopy(ref), (a = acquisition(referrer, pageHost, utm, refParam)));
    return a;
  };

  country = (prefix: IpPrefix): string | null => {
    let c = this.countries.get(prefix.text);
    if (c === undefined) this.countries.set(prefix.text, (c = lookupCountry(this.tables, prefix)));
    return c;
  };

  visitorId = (key: Buffer, siteId: number, prefix: string, userAgent: string): bigint => {
    if (userAgent.length > MAX_KEY) return hmac64(key, visitorMessage(siteId, prefix, userAgent));
    let sites = this.ids.get(key);
    if (!sites) {
      if (this.ids.size >= 2) this.ids.delete(this.ids.keys().next().value!); // the oldest key's
      this.ids.set(key, (sites = new Map()));
    }
    let lru = sites.get(siteId);
    if (!lru) sites.set(siteId, (lru = new Lru2(VISITORS)));
    let id = lru.get(userAgent, prefix);
    if (id === undefined) lru.set(ownCopy(userAgent), prefix, (id = hmac64(key, visitorMessage(siteId, prefix, userAgent))));
    return id;
  };

  scrub = (text: string | null): string | null => {
    if (!text || text.length > MAX_KEY) return scrub(text);
    let s = this.scrubbed.get(text);
    if (s === undefined) this.scrubbed.set(text, (s = scrub(text)));
    return s;
  };

  scrubHost = (host: string): string => {
    if (host.length > MAX_KEY) return scrubHost(host);
    let s = this.hosts.get(host);
    if (s === undefined) this.hosts.set(host, (s = scrubHost(host)));
    return s;
  };
}

/**
 * truncateIp for the import's lines, with each IPv4 network's prefix built once: its text is
 * assembled from four numbers, ~270 bytes of short strings per line (allocation sampling, 300k
 * bench lines, 11 % of what the import allocated). Keyed by the masked address — the prefix
 * itself, never a client address — and bounded. Prefixes are shared: callers only read them.
 */
export class PrefixCache {
  private readonly v4 = new Map<number, IpPrefix>();
  private readonly mask: number;

  constructor(private readonly precision: Precision) {
    const bits = PREFIX_BITS[precision].v4;
    this.mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  }

  truncate(ip: string): IpPrefix | null {
    const n = parseIPv4(ip);
    if (n < 0) return truncateIp(ip, this.precision);
    const net = (n & this.mask) >>> 0;
    let p = this.v4.get(net);
    if (p === undefined) {
      if (this.v4.size >= VISITORS) this.v4.clear();
      this.v4.set(net, (p = truncateIp(ip, this.precision)!));
    }
    return p;
  }
}
