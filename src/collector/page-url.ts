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
 * Parses a page URL; null when it is not an absolute http(s) URL. A plain URL (most pages) is
 * split by hand, with what `new URL` and its searchParams would give (simple-url.ts): nothing to
 * decode in the path, the fragment ignored unless in hash mode, and a query of plain characters
 * read for the campaign keys as URLSearchParams reads it (first value of a name, '+' a space).
 */
export function parsePage(url: string, hashMode: boolean): Page | null {
  if (splitSimpleUrl(url, 'any')) {
    const { hostStart, hostEnd, pathEnd } = parts;
    const next = url.charCodeAt(pathEnd); // NaN at the end, else '?' or '#'
    let utm = NO_UTM, refParam: string | null = null;
    if (next === 35 && hashMode) return parsePageByUrl(url, hashMode); // '#': a route to decode
    if (next === 63) { // '?'
      let end = url.indexOf('#', pathEnd + 1);
      if (end < 0) end = url.length;
      else if (hashMode) return parsePageByUrl(url, hashMode);
      if (!plainQuery(url, pathEnd + 1, end)) return parsePageByUrl(url, hashMode);
      if (end > pathEnd + 1) { // an empty query is no query (u.search is '')
        utm = {
          source: queryParam(url, pathEnd + 1, end, 'utm_source'),
          medium: queryParam(url, pathEnd + 1, end, 'utm_medium'),
          campaign: queryParam(url, pathEnd + 1, end, 'utm_campaign'),
          content: queryParam(url, pathEnd + 1, end, 'utm_content'),
          term: queryParam(url, pathEnd + 1, end, 'utm_term'),
        };
        refParam = queryParam(url, pathEnd + 1, end, 'ref') ?? queryParam(url, pathEnd + 1, end, 'source');
      }
    }
    return { hostname: url.slice(hostStart, hostEnd), pathname: pathEnd > hostEnd ? url.slice(hostEnd, pathEnd) : '/', utm, refParam };
  }
  return parsePageByUrl(url, hashMode);
}

/**
 * Query characters that the URL parser keeps as they are and URLSearchParams does not decode
 * (no '%'; no "'", which special URLs' queries percent-encode; no space, quotes, '<', '>').
 */
const QUERY_OK = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&()*+,;=:@/?") QUERY_OK[c.charCodeAt(0)] = 1;

function plainQuery(url: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = url.charCodeAt(i);
    if (c >= 128 || QUERY_OK[c] === 0) return false;
  }
  return true;
}

/**
 * param(new URLSearchParams(query), key) for a plain query url[start … end): the first
 * '&'-separated pair whose name is `key` (names with '+' or '%' cannot be one), its value after the
 * first '=' with '+' read as a space; null when absent or empty, else cut to 300 characters.
 */
function queryParam(url: string, start: number, end: number, key: string): string | null {
  for (let at = start; at < end;) {
    let pairEnd = url.indexOf('&', at);
    if (pairEnd < 0 || pairEnd > end) pairEnd = end;
    const nameEnd = at + key.length;
    if (url.startsWith(key, at) && (nameEnd === pairEnd || (nameEnd < pairEnd && url.charCodeAt(nameEnd) === 61))) {
      const v = nameEnd < pairEnd ? url.slice(nameEnd + 1, pairEnd) : '';
      return v ? (v.includes('+') ? v.replaceAll('+', ' ') : v).slice(0, 300) : null;
    }
    at = pairEnd + 1;
  }
  return null;
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
