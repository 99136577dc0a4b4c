// The page URL → hostname + path and the campaign parameters. The query string is dropped
// except the allow-listed campaign keys (utm_*, ref, source), which are kept in their own
// fields; the fragment only in hash-routing mode.
import type { Utm } from './referrer.ts';
import { parts, splitSimpleUrl } from './simple-url.ts';

export interface Page {
  hostname: string;
  pathname: string;
  utm: Utm;
  /** `ref` or `source` query parameter, used as a source name when there is no utm_source. */
  refParam: string | null;
}

const NO_UTM: Utm = Object.freeze({ source: null, medium: null, campaign: null, content: null, term: null }) as Utm;

function param(q: URLSearchParams, key: string): string | null {
  const v = q.get(key);
  return v ? v.slice(0, 300) : null;
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p; // malformed escapes: keep the bytes as sent
  }
}

/**
 * Parses a page URL; null when it is not an absolute http(s) URL. A plain URL without a query
 * (most pages) is split by hand, with what `new URL` would give (simple-url.ts): no campaign
 * parameters, the fragment ignored unless in hash mode, nothing to decode in the path.
 */
export function parsePage(url: string, hashMode: boolean): Page | null {
  if (splitSimpleUrl(url, hashMode ? 'none' : 'fragment')) {
    const { hostStart, hostEnd, pathEnd } = parts;
    return { hostname: url.slice(hostStart, hostEnd), pathname: pathEnd > hostEnd ? url.slice(hostEnd, pathEnd) : '/', utm: NO_UTM, refParam: null };
  }
  return parsePageByUrl(url, hashMode);
}

/** parsePage through the WHATWG parser: any URL (exported for the test that compares both). */
export function parsePageByUrl(url: string, hashMode: boolean): Page | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  const pathname = decodePath(u.pathname) + (hashMode && u.hash ? decodePath(u.hash) : '');
  let utm = NO_UTM, refParam: string | null = null;
  if (u.search) {
    const q = u.searchParams;
    utm = {
      source: param(q, 'utm_source'),
      medium: param(q, 'utm_medium'),
      campaign: param(q, 'utm_campaign'),
      content: param(q, 'utm_content'),
      term: param(q, 'utm_term'),
    };
    refParam = param(q, 'ref') ?? param(q, 'source');
  }
  return { hostname: u.hostname.toLowerCase(), pathname, utm, refParam };
}
