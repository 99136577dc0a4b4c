// The base sums of a report from day segments: the same numbers as the SQL of raw-source.ts (a
// property test holds them equal), counted into dense typed arrays indexed by group code.
// A group is (local hour?, dimension codes…) within one day; its code is mixed-radix over the
// segment's dictionaries, so no string keys or Maps on the hot path (the Map-per-visit
// aggregation in aggregate.ts spends ~0.7 µs per row; this loop a few ns).
// Distinct visits and visitors per group need no sets: a segment's events come ordered by
// visitor, then visit, so "is this visit (visitor) new to this group" is a compare with the
// last visit (visitor) the group saw. Scroll depth's two sums (asked with `scroll`) the same way:
// each visit's deepest engagement report in the group is kept while its events go by.
import type { Dimension } from './dimensions.ts';
import { B, BASE, SCROLL_N, SCROLL_SUM, type Base } from './metrics.ts';
import type { SourceRow } from './raw-source.ts';
import { EVENT_COLS, NO_SCROLL, NULL_INT, totalsBytes, type Dict, type EventCol, type Segment } from './segments.ts';
import { everyEvent, matching, passingVisits, type Pred } from './segment-filter.ts';
import { pickVisits, sumVisits, visitSumsBytes, type VisitSums } from './visit-sums.ts';
import { noteGrowth } from './segment-cache.ts';

/** Groups a segment may count into at once; beyond this the caller reads raw events. */
export const MAX_GROUPS = 4_000_000;

export interface SegmentQuery {
  /** [start, end) in ms: events outside are skipped (partial days). */
  start: number;
  end: number;
  dims: Dimension[];
  hourly: boolean;
  collapse: boolean;
  pred: Pred | null;
  /** The cache key of `pred` (filter results are kept per segment). */
  key: string;
  ids: { pageview: number; engagement: number };
  /** The base sums wanted (others may stay 0: a panel of visitors and page views skips 8 of 12). */
  cols?: number[];
  /** Add scroll depth's two sums after the base sums (metrics.ts SCROLL_SUM, SCROLL_N). */
  scroll?: boolean;
  /** A dimension value as the answer shows it. */
  text: (dim: Dimension, raw: number | null) => string | null;
}

/** True when segments hold the dimension (custom properties are not). */
export function segmentDimension(d: Dimension): boolean {
  return d.name in EVENT_COLS || (d.kind === 'visit' && d.code !== undefined);
}

/** The rows, or undefined when a day would need more than MAX_GROUPS groups. */
export function aggregateSegments(segs: Segment[], q: SegmentQuery): SourceRow[] | undefined {
  const out: SourceRow[] = [];
  // Collapsed (no time dimension): days merge by their raw values, decoded to text once at the end.
  const merged = new Map<number | string | null, { raw: Array<number | null>; base: Float64Array }>();
  const nd = q.dims.length;
  const nb = q.scroll ? NB + 2 : NB;
  for (const s of segs) {
    if (s.n === 0 || q.end <= s.start || q.start >= s.end) continue;
    const dicts: Dict[] = q.dims.map((d) => (d.name in EVENT_COLS ? s[(EVENT_COLS as Record<string, EventCol>)[d.name]] : s.attrs.get(d.name)!));
    const perVisit = q.dims.map((d) => !(d.name in EVENT_COLS));
    const sizes = dicts.map((d) => d.values.length);
    const G = sizes.reduce((a, b) => a * b, q.hourly ? 24 : 1);
    if (G > MAX_GROUPS) return undefined;
    const sums = count(s, q, dicts, perVisit, sizes, G);
    const events = sums[B_EVENTS];
    for (let g = 0; g < G; g++) {
      if (events[g] === 0) continue;
      const raw: Array<number | null> = new Array(nd);
      let rest = g;
      for (let k = nd - 1; k >= 0; k--) {
        const c = rest % sizes[k];
        rest = (rest - c) / sizes[k];
        raw[k] = dicts[k].values[c];
      }
      if (q.collapse) {
        const key = nd === 1 ? raw[0] : raw.join('\u0001');
        let m = merged.get(key);
        if (!m) merged.set(key, (m = { raw, base: new Float64Array(nb) }));
        const base = m.base;
        for (let b = 0; b < nb; b++) base[b] += sums[b][g];
      } else {
        const base: Base = new Array(nb);
        for (let b = 0; b < nb; b++) base[b] = sums[b][g];
        out.push({ day: s.day, hour: q.hourly ? s.day * 24 + rest : null, keys: raw.map((v, k) => q.text(q.dims[k], v)), base });
      }
    }
  }
  if (!q.collapse) return out;
  const rows: SourceRow[] = [];
  for (const m of merged.values()) rows.push({ day: null, hour: null, keys: m.raw.map((v, k) => q.text(q.dims[k], v)), base: Array.from(m.base) });
  return rows;
}

const NB = BASE.length;

// Group codes of one pass, reused (a pass over 1.5 M matching events would allocate 6 MB each time).
let scratchBuf = new Int32Array(1 << 16);
function scratch(n: number): Int32Array {
  if (scratchBuf.length < n) scratchBuf = new Int32Array(Math.max(n, scratchBuf.length * 2));
  const view = scratchBuf.subarray(0, n);
  view.fill(0);
  return view;
}
const B_EVENTS = B.events;

/** The base sums (in BASE order) per group code of one segment. */
function count(s: Segment, q: SegmentQuery, dicts: Dict[], perVisit: boolean[], sizes: number[], G: number): Float64Array[] {
  // Every query of a dashboard asks the filtered total (k-anonymity, percentages) and the chart
  // the same per day: sums without dimensions are kept with the segment (G ≤ 24, ~2 KB).
  const whole = q.start <= s.start && q.end >= s.end;
  const totalKey = whole && dicts.length === 0 ? `${q.key}|${q.hourly ? 'h' : 'd'}` : null;
  const kept = totalKey === null ? undefined : s.totals.get(totalKey);
  if (kept) return kept;
  // Groupings by visit attributes only (five of a dashboard's six panels, and its totals) count
  // per visit from the filter's per-visit sums: a pass over the visits the filter touched
  // instead of over their events.
  // Totals are kept and shared, so they count everything; groupings only what is asked.
  const want = { ...(totalKey !== null || !q.cols ? ALL_WANTED : wanted(q.cols)), scroll: totalKey !== null || q.scroll === true };
  const sums = whole && !q.hourly && perVisit.every(Boolean) ? byVisit(s, q, dicts, sizes, G, want) : tallied(s, q, dicts, perVisit, sizes, G, want);
  if (totalKey !== null) {
    let freed = 0;
    if (s.totals.size >= 16) {
      for (const t of s.totals.values()) freed += totalsBytes(t);
      s.totals.clear();
    }
    s.totals.set(totalKey, sums);
    const grown = totalsBytes(sums) - freed;
    s.size += grown;
    noteGrowth(s, grown);
  }
  return sums;
}

/**
 * Which groups of base sums a loop adds: visits (bounces, duration, visit page views), bytes, load
 * times, engagement; and scroll depth's two sums (two more arrays after the base sums).
 */
interface Wanted { visits: boolean; bytes: boolean; load: boolean; eng: boolean; scroll?: boolean }
const ALL_WANTED: Wanted = { visits: true, bytes: true, load: true, eng: true };
function wanted(cols: number[]): Wanted {
  const has = (...bs: number[]) => bs.some((b) => cols.includes(b));
  return {
    visits: has(B.visits, B.bounces, B.duration_ms, B.visit_pageviews), bytes: has(B.bytes),
    load: has(B.load_ms, B.load_n), eng: has(B.engaged_ms, B.engaged_visits),
  };
}

function tallied(s: Segment, q: SegmentQuery, dicts: Dict[], perVisit: boolean[], sizes: number[], G: number, want: Wanted): Float64Array[] {
  const pos = q.pred ? matching(s, q.pred, q.key) : everyEvent(s);
  const n = pos.length;
  // Group codes first, a dimension at a time (-1: outside a partial range) …
  const group = scratch(n);
  if (q.hourly) for (let j = 0; j < n; j++) group[j] = s.hour[pos[j]];
  for (let k = 0; k < dicts.length; k++) {
    const codes = dicts[k].codes, size = sizes[k];
    if (perVisit[k]) for (let j = 0; j < n; j++) group[j] = group[j] * size + codes[s.visit[pos[j]]];
    else for (let j = 0; j < n; j++) group[j] = group[j] * size + codes[pos[j]];
  }
  if (q.start > s.start || q.end < s.end) {
    const lo = q.start - s.start, hi = q.end - s.start;
    for (let j = 0; j < n; j++) {
      const t = s.ts[pos[j]];
      if (t < lo || t >= hi) group[j] = -1;
    }
  }
  const sums = Array.from({ length: want.scroll ? NB + 2 : NB }, () => new Float64Array(G));
  // … then one loop with nothing but typed arrays: V8 keeps a single fast version of it.
  tally(pos, group, G, s.name.codes, s.name.values.indexOf(q.ids.pageview), s.name.values.indexOf(q.ids.engagement),
    s.visit, s.bytes, s.load, s.eng, s.scroll, s.real, s.visitor, s.bounce, s.dur, s.vpv, sums, want.visits, want.bytes, want.load, want.eng,
    want.scroll === true);
  return sums;
}

/**
 * The sums per visit of the events passing the query's filter. No filter: the segment's own
 * (every event). A filter on visit attributes only: the own sums of the visits that pass, with
 * no event read at all. Otherwise one pass over the passing events, kept for that filter.
 */
function visitSums(s: Segment, q: SegmentQuery): VisitSums {
  if (!q.pred) return s.own;
  if (s.visitSums?.key === q.key) return s.visitSums.sums;
  const out = q.pred.visit ? pickVisits(s.own, passingVisits(s, q.pred)) : sumVisits(s, matching(s, q.pred, q.key), q.ids);
  if (s.visitSums) {
    s.size -= s.visitSums.bytes;
    noteGrowth(s, -s.visitSums.bytes);
  }
  const bytes = visitSumsBytes(out);
  s.visitSums = { key: q.key, sums: out, bytes };
  s.size += bytes;
  noteGrowth(s, bytes);
  return out;
}

function byVisit(s: Segment, q: SegmentQuery, dicts: Dict[], sizes: number[], G: number, want: Wanted): Float64Array[] {
  const vs = visitSums(s, q);
  const k = vs.visit.length;
  const group = scratch(k);
  for (let d = 0; d < dicts.length; d++) {
    const codes = dicts[d].codes, size = sizes[d];
    for (let t = 0; t < k; t++) group[t] = group[t] * size + codes[vs.visit[t]];
  }
  const sums = Array.from({ length: want.scroll ? NB + 2 : NB }, () => new Float64Array(G));
  tallyVisits(vs.visit, group, G, vs.events, vs.pageviews, vs.bytes, vs.loadMs, vs.loadN, vs.engMs, vs.engaged, vs.scroll,
    s.real, s.visitor, s.bounce, s.dur, s.vpv, sums, want.visits, want.bytes, want.load, want.eng, want.scroll === true);
  return sums;
}

const NO_SUMS = new Float64Array(0);

function tallyVisits(visit: Int32Array, group: Int32Array, G: number, n: Int32Array, pv: Int32Array, bytesA: Float64Array, loadA: Float64Array,
  loadNA: Int32Array, engA: Float64Array, engagedA: Uint8Array, scrollA: Int16Array, real: Uint8Array, visitorOf: Int32Array, bounce: Uint8Array,
  dur: Float64Array, vpv: Int32Array, sums: Float64Array[], wantVisits: boolean, wantBytes: boolean, wantLoad: boolean, wantEng: boolean,
  wantScroll: boolean): void {
  const [visitors, visits, pageviews, events, bounces, durMs, vpvs, bytes, loadMs, loadN, engMs, engVisits] = sums;
  const sdSum = wantScroll ? sums[SCROLL_SUM] : NO_SUMS, sdN = wantScroll ? sums[SCROLL_N] : NO_SUMS;
  const lastVisitor = new Int32Array(G).fill(-1);
  for (let t = 0; t < visit.length; t++) {
    const g = group[t], v = visit[t];
    events[g] += n[t];
    // Every visit index with a deepest scroll counts, the pseudo-visit of visit_id 0 too (as in SQL).
    if (wantScroll && scrollA[t] >= 0) {
      sdSum[g] += scrollA[t];
      sdN[g]++;
    }
    pageviews[g] += pv[t];
    if (wantBytes) bytes[g] += bytesA[t];
    if (wantLoad) {
      loadMs[g] += loadA[t];
      loadN[g] += loadNA[t];
    }
    if (wantEng) engMs[g] += engA[t];
    if (real[v] !== 1) continue;
    if (wantEng && engagedA[t] === 1) engVisits[g]++;
    if (n[t] > 0) {
      if (wantVisits) {
        visits[g]++;
        bounces[g] += bounce[v];
        durMs[g] += dur[v];
        vpvs[g] += vpv[v];
      }
      const who = visitorOf[v];
      if (who >= 0 && lastVisitor[g] !== who) {
        lastVisitor[g] = who;
        visitors[g]++;
      }
    }
  }
}

function tally(pos: Int32Array, group: Int32Array, G: number, names: Uint16Array, pv: number, en: number,
  visit: Int32Array, bytesA: Float64Array, load: Int32Array, eng: Int32Array, scroll: Uint8Array,
  real: Uint8Array, visitorOf: Int32Array, bounce: Uint8Array, dur: Float64Array, vpv: Int32Array, sums: Float64Array[],
  wantVisits: boolean, wantBytes: boolean, wantLoad: boolean, wantEng: boolean, wantScroll: boolean): void {
  const [visitors, visits, pageviews, events, bounces, durMs, vpvs, bytes, loadMs, loadN, engMs, engVisits] = sums;
  const lastVisit = new Int32Array(G).fill(-1), lastVisitor = new Int32Array(G).fill(-1), lastEng = new Int32Array(G).fill(-1);
  // Scroll depth: the visit whose deepest report the group holds last, and that deepest value.
  const sdSum = wantScroll ? sums[SCROLL_SUM] : NO_SUMS, sdN = wantScroll ? sums[SCROLL_N] : NO_SUMS;
  const lastSd = new Int32Array(wantScroll ? G : 0).fill(-1), maxSd = new Int32Array(wantScroll ? G : 0);
  const n = pos.length;
  for (let j = 0; j < n; j++) {
    const g = group[j];
    if (g < 0) continue;
    const i = pos[j];
    const v = visit[i];
    const name = names[i];
    if (name === en) {
      const sd = scroll[i];
      if (wantScroll && sd !== NO_SCROLL) {
        // A visit's events are adjacent, so a visit new to the group is one unlike the last.
        if (lastSd[g] !== v) {
          lastSd[g] = v;
          maxSd[g] = sd;
          sdSum[g] += sd;
          sdN[g]++;
        } else if (sd > maxSd[g]) {
          sdSum[g] += sd - maxSd[g];
          maxSd[g] = sd;
        }
      }
      const e = eng[i];
      if (wantEng && e !== NULL_INT) {
        engMs[g] += e;
        if (real[v] === 1 && lastEng[g] !== v) {
          lastEng[g] = v;
          engVisits[g]++;
        }
      }
      continue;
    }
    events[g]++;
    if (wantBytes) bytes[g] += bytesA[i];
    if (name === pv) {
      pageviews[g]++;
      const l = load[i];
      if (wantLoad && l !== NULL_INT) {
        loadMs[g] += l;
        loadN[g]++;
      }
    }
    if (real[v] === 1 && lastVisit[g] !== v) {
      lastVisit[g] = v;
      if (wantVisits) {
        visits[g]++;
        bounces[g] += bounce[v];
        durMs[g] += dur[v];
        vpvs[g] += vpv[v];
      }
      const who = visitorOf[v];
      if (who >= 0 && lastVisitor[g] !== who) {
        lastVisitor[g] = who;
        visitors[g]++;
      }
    }
  }
}
