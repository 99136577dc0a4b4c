// Hits on their way to the writer thread: one batch as a Float64Array of every number (moved, not
// copied) and a table of the batch's distinct strings, instead of an array of objects.
// postMessage's structured clone writes every object's property names and every string of every
// hit, and the writer thread builds them all again: on the ingestion bench's server (--cpu-prof,
// 50 connections) postMessage took ~18 µs of the main thread per hit. A batch repeats most of its
// strings (names, hosts, pages, browsers, countries), so the table holds a few dozen per batch.
import type { Hit } from '../collector/hit.ts';
import { hiOf, joinHalves, loOf } from './id-halves.ts';

/** Numbers per hit (the visitor ids take two each: their 32-bit halves). */
export const HIT_SLOTS = 36;
const NO = -1; // null string
const FALSE = 0, TRUE = 1;

export interface PackedHits {
  nums: Float64Array;
  strings: string[];
}

/** Encodes a batch; `nums.buffer` can go in postMessage's transfer list. */
export function packHits(hits: Hit[]): PackedHits {
  const nums = new Float64Array(hits.length * HIT_SLOTS);
  const strings: string[] = [];
  const index = new Map<string, number>();
  const s = (x: string | null): number => {
    if (x === null) return NO;
    let i = index.get(x);
    if (i === undefined) {
      index.set(x, (i = strings.length));
      strings.push(x);
    }
    return i;
  };
  const n = (x: number | null | undefined): number => (x === null || x === undefined ? NaN : x);
  let i = 0;
  for (const h of hits) {
    nums[i++] = h.siteId; nums[i++] = h.ts;
    nums[i++] = hiOf(h.visitorId); nums[i++] = loOf(h.visitorId);
    nums[i++] = h.prevVisitorId === null ? NaN : hiOf(h.prevVisitorId); nums[i++] = h.prevVisitorId === null ? NaN : loOf(h.prevVisitorId);
    nums[i++] = s(h.name); nums[i++] = s(h.hostname); nums[i++] = s(h.pathname); nums[i++] = n(h.bytes);
    nums[i++] = n(h.status); nums[i++] = n(h.loadMs); nums[i++] = n(h.engagementMs); nums[i++] = n(h.scrollDepth);
    nums[i++] = s(h.props); nums[i++] = n(h.revenueAmount); nums[i++] = s(h.revenueCurrency); nums[i++] = h.interactive ? TRUE : FALSE;
    nums[i++] = s(h.sourceType); nums[i++] = s(h.referrerHost); nums[i++] = s(h.referrerPath); nums[i++] = s(h.source);
    nums[i++] = s(h.channel); nums[i++] = s(h.utmSource); nums[i++] = s(h.utmMedium); nums[i++] = s(h.utmCampaign);
    nums[i++] = s(h.utmContent); nums[i++] = s(h.utmTerm); nums[i++] = s(h.country); nums[i++] = s(h.browser);
    nums[i++] = s(h.browserVersion); nums[i++] = s(h.os); nums[i++] = s(h.osVersion); nums[i++] = s(h.device);
    nums[i++] = s(h.language); nums[i++] = s(h.screen);
  }
  return { nums, strings };
}

/**
 * The writer's one copy of each string value seen lately. Every batch's table arrives as new
 * strings, and an open visit keeps its text (browser, country, pages, …) for up to two hours: it
 * kept its batch's copies alive with it, so each batch's whole table was promoted to the old
 * generation again. Bounded: cleared when full (unique paths would otherwise grow it forever).
 */
const canonical = new Map<string, string>();
const MAX_CANONICAL = 20_000;

function intern(strings: string[]): void {
  if (canonical.size > MAX_CANONICAL) canonical.clear();
  for (let i = 0; i < strings.length; i++) {
    const x = strings[i], c = canonical.get(x);
    if (c === undefined) canonical.set(x, x);
    else strings[i] = c;
  }
}

/** The hits of a packed batch (objects of one shape, built in one literal). */
export function unpackHits({ nums: v, strings }: PackedHits): Hit[] {
  if (v.length % HIT_SLOTS !== 0) throw new Error(`a packed batch has ${v.length} numbers, not a multiple of ${HIT_SLOTS}`);
  intern(strings);
  const s = (x: number): string | null => (x === NO ? null : strings[x]);
  const n = (x: number): number | null => (Number.isNaN(x) ? null : x);
  const big = joinHalves;
  const hits = new Array<Hit>(v.length / HIT_SLOTS);
  for (let k = 0, i = 0; i < v.length; k++, i += HIT_SLOTS) {
    hits[k] = {
      siteId: v[i], ts: v[i + 1], visitorId: big(v[i + 2], v[i + 3]), prevVisitorId: Number.isNaN(v[i + 4]) ? null : big(v[i + 4], v[i + 5]),
      name: s(v[i + 6])!, hostname: s(v[i + 7])!, pathname: s(v[i + 8])!, bytes: n(v[i + 9]),
      status: n(v[i + 10]), loadMs: n(v[i + 11]), engagementMs: n(v[i + 12]), scrollDepth: n(v[i + 13]),
      props: s(v[i + 14]), revenueAmount: n(v[i + 15]), revenueCurrency: s(v[i + 16]), interactive: v[i + 17] === TRUE,
      sourceType: s(v[i + 18]) as Hit['sourceType'], referrerHost: s(v[i + 19]), referrerPath: s(v[i + 20]), source: s(v[i + 21]),
      channel: s(v[i + 22]) as Hit['channel'], utmSource: s(v[i + 23]), utmMedium: s(v[i + 24]), utmCampaign: s(v[i + 25]),
      utmContent: s(v[i + 26]), utmTerm: s(v[i + 27]), country: s(v[i + 28]), browser: s(v[i + 29]),
      browserVersion: s(v[i + 30]), os: s(v[i + 31]), osVersion: s(v[i + 32]), device: s(v[i + 33]) as Hit['device'],
      language: s(v[i + 34]), screen: s(v[i + 35]),
    } satisfies Required<Hit>; // a field added to Hit and not here fails to compile
  }
  return hits;
}
