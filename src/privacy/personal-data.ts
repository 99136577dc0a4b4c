// What counts as personal data in a stored text value: IP addresses (IPv4 with valid octets, IPv6
// that ipaddr.js accepts and that looks like a client's), e-mail addresses and user-agent
// strings. One definition serves both sides: `hush audit` reports any of them as a leak, and the
// collector scrubs them out of what visitors send (page host and path, referrer, UTM tags, props)
// before anything is stored — otherwise any visitor could store an address (a hit for
// https://203.0.113.99/x) and make the audit fail, or worse, make Hush keep one.
// Every matcher here runs in linear time over its input (bounded quantifiers, indexOf scans).
import ipaddr from 'ipaddr.js';

const V4 = /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])/g;
const HEX = /[0-9a-fA-F]/;
const isSep = (c: number) => c === 46 || c === 58;
const isHexOrSep = (c: number) => (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46;

/**
 * IPv6 candidates: runs of hex digits, colons and dots around two colons at most five characters
 * apart, with their positions. Found by indexOf from colon to colon — a regex over a gigabyte of
 * binary pages spent ~8 s/GB backtracking; this spends ~1.
 */
function v6Candidates(text: string): Array<{ start: number; text: string }> {
  const out: Array<{ start: number; text: string }> = [];
  let i = text.indexOf(':');
  let lastEnd = -1;
  while (i >= 0) {
    const next = text.indexOf(':', i + 1);
    if (next < 0) break;
    if (next - i <= 5 && i >= lastEnd) {
      let start = i, end = next;
      while (start > 0 && isHexOrSep(text.charCodeAt(start - 1))) start--;
      while (end < text.length - 1 && isHexOrSep(text.charCodeAt(end + 1))) end++;
      out.push({ start, text: text.slice(start, end + 1) });
      lastEnd = end + 1;
    }
    i = next;
  }
  return out;
}

/**
 * A client's IPv6 address starts with a non-zero group (global, unique-local, link-local), or is
 * an IPv4-mapped one. Runs like "0:0::" are what binary bytes 0x30 and 0x3a look like: on a 900 MB
 * database of realistic data one such run was reported as an address.
 */
function clientLike(a: ipaddr.IPv6): boolean {
  return a.parts[0] !== 0 || a.range() === 'ipv4Mapped';
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Whether some '.' has a digit on each side: every IPv4 match does ("d.d.d.d"), and most hosts and
 * paths ("example.com", "/a/b.html") do not, so they skip the regex scan and its match objects
 * (scrubbing a page host cost ~0.4 µs with it, the pipeline scrubs two or three hosts a hit).
 */
function digitDotDigit(text: string): boolean {
  for (let i = text.indexOf('.', 1); i >= 0; i = text.indexOf('.', i + 1)) {
    if (isDigit(text.charCodeAt(i - 1)) && isDigit(text.charCodeAt(i + 1))) return true;
  }
  return false;
}

/** Whether some '/' is followed by a digit, as in every match of USER_AGENT ("Chrome/1", "Mozilla/5"). */
function slashDigit(text: string): boolean {
  for (let i = text.indexOf('/'); i >= 0; i = text.indexOf('/', i + 1)) {
    if (isDigit(text.charCodeAt(i + 1))) return true;
  }
  return false;
}

/** Textual IP addresses in a string, each with where it starts. */
function ipSpans(text: string): Array<{ start: number; text: string }> {
  const out: Array<{ start: number; text: string }> = [];
  if (digitDotDigit(text)) {
    for (const m of text.matchAll(V4)) {
      if (Number(m[1]) <= 255 && Number(m[2]) <= 255 && Number(m[3]) <= 255 && Number(m[4]) <= 255) out.push({ start: m.index!, text: m[0] });
    }
  }
  if (text.indexOf(':') >= 0) {
    for (const c of v6Candidates(text)) {
      // at least three groups (a time such as 10:05:03 is not an address) and a hex digit;
      // dots and single colons around the run are trimmed, a '::' end is part of the address
      const t = c.text;
      let a = 0, b = t.length;
      while (a < b && isSep(t.charCodeAt(a))) a++;
      while (b > a && isSep(t.charCodeAt(b - 1))) b--;
      const lead = t.slice(0, a), trail = t.slice(b);
      const keep = (x: string) => x.startsWith('::') || x.endsWith('::');
      const trimLead = keep(lead) ? 0 : lead.length, trimTrail = keep(trail) ? 0 : trail.length;
      const m = c.text.slice(trimLead, c.text.length - trimTrail);
      // 45 characters is the longest IPv6 text (a mapped IPv4 tail): longer runs are not one.
      if (m.length <= 45 && HEX.test(m) && m.split(':').length > 3 && ipaddr.IPv6.isValid(m) && clientLike(ipaddr.IPv6.parse(m))) {
        out.push({ start: c.start + trimLead, text: m });
      }
    }
  }
  return out;
}

/** Textual IP-address findings in a string (IPv4 with valid octets; IPv6 that ipaddr.js accepts). */
export function ipsIn(text: string): string[] {
  return ipSpans(text).map((s) => s.text);
}

export const USER_AGENT = /Mozilla\/\d\.\d \(|AppleWebKit\/\d{3}|Gecko\/\d{8}|(?:Chrome|Firefox|Safari|Edg|OPR)\/\d+\.\d+\.\d+/;
export const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}/;
const EMAIL_ALL = new RegExp(EMAIL.source, 'g');

/** What a scrubbed address, e-mail or user-agent is stored as (documented in the README). */
export const PLACEHOLDER = { ip: '[ip]', email: '[email]', userAgent: '[user-agent]' } as const;

/**
 * The value with every IP address and e-mail address replaced by a placeholder, and a value that
 * holds a user-agent string replaced whole. Returns the same string when there is nothing to do
 * (the common case costs a few indexOf calls).
 */
export function scrub(text: string): string;
export function scrub(text: string | null): string | null;
export function scrub(text: string | null): string | null {
  if (!text) return text;
  if (slashDigit(text) && USER_AGENT.test(text)) return PLACEHOLDER.userAgent;
  let out = text;
  if (out.indexOf('@') >= 0) out = out.replace(EMAIL_ALL, PLACEHOLDER.email);
  return replaceIps(out, ipPlaceholder);
}
const ipPlaceholder = () => PLACEHOLDER.ip;

/**
 * The text with each IP address replaced by `replacer(address)`. An IPv4-mapped address is found
 * twice (as IPv6 and as its IPv4 tail): the union is replaced once, given the longer form.
 */
export function replaceIps(text: string, replacer: (ip: string) => string): string {
  // nothing that could be an address: no '.' between digits, no two ':' close together
  if (!digitDotDigit(text) && text.indexOf(':') < 0) return text;
  const spans = ipSpans(text);
  if (spans.length === 0) return text;
  spans.sort((a, b) => a.start - b.start || b.text.length - a.text.length);
  let result = '', at = 0;
  for (const s of spans) {
    const end = s.start + s.text.length;
    if (s.start < at) {
      at = Math.max(at, end);
      continue;
    }
    result += text.slice(at, s.start) + replacer(s.text);
    at = end;
  }
  return result + text.slice(at);
}

/** A URL host: an IP literal (v4, or v6 in brackets) becomes the placeholder, a name is kept. */
export function scrubHost(host: string): string {
  if (host.startsWith('[')) return PLACEHOLDER.ip;
  return scrub(host);
}
