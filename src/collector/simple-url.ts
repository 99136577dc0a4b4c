// The common http(s) URL split by hand: a lowercase DNS name, then a path of plain characters.
// For such a URL the WHATWG parser changes nothing — no percent-encoding to add, no dot segment
// to resolve, no IDNA mapping, no IPv4 to canonicalise, no port, no credentials — so its host and
// path are substrings of the input. `new URL` plus its getters cost ~0.7 µs and ~350 B per URL,
// this scan ~0.1 µs; anything else (uppercase, '%', '\', ports, IP hosts, xn-- labels…) answers
// false and goes to `new URL`. test/enrich-simple-url compares both on generated URLs.

/** Where the last URL split by splitSimpleUrl has its host and path: [hostStart, hostEnd) and [hostEnd, pathEnd). */
export const parts = { hostStart: 0, hostEnd: 0, pathEnd: 0 };

const isLower = (c: number) => c >= 97 && c <= 122;
const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Characters a path may hold unchanged by the WHATWG parser (RFC 3986 pchar without '%'), as a
 * table by char code: no space, '"', '<', '>', '`', '{', '}', '\', '^', '|' or controls.
 */
const PATH_OK = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/") PATH_OK[c.charCodeAt(0)] = 1;

/**
 * Splits an `http://` or `https://` URL whose host is lowercase letters, digits, '-' and '.'
 * (labels of 1–63 characters starting and ending with a letter or digit, no "--", the last
 * starting with a letter) and whose path holds only PATH_OK characters and no "." or ".." segment.
 * `tail` says what may follow the path, ignored by the caller (the parser never fails on a query
 * or a fragment): 'none' — nothing, '?' and '#' answer false; 'fragment' — a '#' and anything
 * after it, a '?' answers false; 'any' — a '?' or '#' and anything after it.
 * On true, `parts` holds the offsets; the path is empty for "https://host" (the parser's "/").
 */
export function splitSimpleUrl(url: string, tail: 'none' | 'fragment' | 'any'): boolean {
  let i: number;
  if (url.startsWith('https://')) i = 8;
  else if (url.startsWith('http://')) i = 7;
  else return false;
  const hostStart = i, n = url.length;
  // host: labels separated by single dots
  let labelStart = i, prev = 46; // as if after a '.'
  for (; i < n; i++) {
    const c = url.charCodeAt(i);
    if (isLower(c) || isDigit(c)) { prev = c; continue; }
    if (c === 45) { // '-': not first in a label, not doubled
      if (prev === 46 || prev === 45) return false;
      prev = c;
      continue;
    }
    if (c === 46) { // '.': ends a non-empty label that did not end with '-'
      if (prev === 46 || prev === 45 || i - labelStart > 63) return false;
      prev = c;
      labelStart = i + 1;
      continue;
    }
    break;
  }
  const hostEnd = i;
  if (hostEnd === hostStart || prev === 46 || prev === 45 || hostEnd - labelStart > 63 || hostEnd - hostStart > 253) return false;
  if (!isLower(url.charCodeAt(labelStart))) return false; // the last label must not read as a number
  // (no "--" anywhere, so no "xn--" label to decode as punycode)
  if (i < n && url.charCodeAt(i) !== 47) return false; // a port, credentials, '?', '#'… right after the host
  // path
  let segStart = i, dots = 0;
  for (; i < n; i++) {
    const c = url.charCodeAt(i);
    if (c === 47) { // '/'
      if (i > hostEnd && dots > 0 && dots === i - segStart && dots <= 2) return false; // "." or ".."
      segStart = i + 1;
      dots = 0;
      continue;
    }
    if (c === 35 ? tail === 'none' : c === 63 && tail !== 'any') return false; // '#', '?'
    if (c === 35 || c === 63) break;
    if (c >= 128 || PATH_OK[c] === 0) return false;
    if (c === 46) dots++;
  }
  if (i > hostEnd && dots > 0 && dots === i - segStart && dots <= 2) return false; // a last "." or ".." segment
  parts.hostStart = hostStart;
  parts.hostEnd = hostEnd;
  parts.pathEnd = i;
  return true;
}
