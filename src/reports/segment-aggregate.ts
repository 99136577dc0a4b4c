// The base sums of a report from day segments: the same numbers as the SQL of raw-source.ts (a
// property test holds them equal), counted into dense typed arrays indexed by group code.
// A group is (local hour?, dimension codes…) within one day; its code is mixed-radix over the
// segment's dictionaries, so no string keys or Maps on the hot path (the Map-per-visit
// aggregation in aggregate.ts spends ~0.7 µs per row; this loop a few ns).
// Distinct visits and visitors per group need no sets: a segment's events come ordered by
// visitor, then visit, so "is this visit (visitor) new to this group" is a compare with the
// last visit (visitor) the group saw.
import type { Dimension } from './dimensions.ts';
import { BASE, type Base } from './metrics.ts';
import type { SourceRow } from './raw-source.ts';
import { EVENT_COLS, NULL_INT, type Dict, type EventCol, type Segment } from './segments.ts';
import { matching, type Pred } from './segment-filter.ts';

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
  const merged = new Map<string, SourceRow>();
  for (const s of segs) {
    if (s.n === 0 || q.end <= s.start || q.start >= s.end) continue;
    const dicts: Dict[] = q.dims.map((d) => (d.name in EVENT_COLS ? s[(EVENT_COLS as Record<string, EventCol>)[d.name]] : s.attrs.get(d.name)!));
    const perVisit = q.dims.map((d) => !(d.name in EVENT_COLS));
    const sizes = dicts.map((d) => d.values.length);
    const G = sizes.reduce((a, b) => a * b, q.hourly ? 24 : 1);
    if (G > MAX_GROUPS) return undefined;
    const rows = count(s, q, dicts, perVisit, sizes, G);
    for (const r of rows) {
      if (!q.collapse) {
        out.push(r);
        continue;
      }
      const key = r.keys.map((k) => (k === null ? '\u0002' : k)).join('\u0001');
      const m = merged.get(key);
      if (!m) merged.set(key, { ...r, day: null, hour: null });
      else for (let b = 0; b < BASE.length; b++) m.base[b] += r.base[b];
    }
  }
  return q.collapse ? [...merged.values()] : out;
}

function count(s: Segment, q: SegmentQuery, dicts: Dict[], perVisit: boolean[], sizes: number[], G: number): SourceRow[] {
  const pos = q.pred ? matching(s, q.pred, q.key) : null;
  const total = pos ? pos.length : s.n;
  const partial = q.start > s.start || q.end < s.end;
  const lo = q.start - s.start, hi = q.end - s.start;
  const pv = s.name.values.indexOf(q.ids.pageview), en = s.name.values.indexOf(q.ids.engagement);
  const nameCodes = s.name.codes, visit = s.visit, hour = s.hour, ts = s.ts;
  const real = s.real, visitorOf = s.visitor, bounce = s.bounce, dur = s.dur, vpv = s.vpv;
  const bytesA = s.bytes, load = s.load, eng = s.eng;
  const codes = dicts.map((d) => d.codes);
  const nd = codes.length;
  const c0 = codes[0], c1 = codes[1];
  const v0 = perVisit[0], v1 = perVisit[1];
  const s0 = sizes[0] ?? 1, s1 = sizes[1] ?? 1;

  const visitors = new Float64Array(G), visits = new Float64Array(G), pageviews = new Float64Array(G), events = new Float64Array(G);
  const bounces = new Float64Array(G), durMs = new Float64Array(G), vpvs = new Float64Array(G), bytes = new Float64Array(G);
  const loadMs = new Float64Array(G), loadN = new Float64Array(G), engMs = new Float64Array(G), engVisits = new Float64Array(G);
  const lastVisit = new Int32Array(G).fill(-1), lastVisitor = new Int32Array(G).fill(-1), lastEng = new Int32Array(G).fill(-1);

  for (let j = 0; j < total; j++) {
    const i = pos ? pos[j] : j;
    if (partial) {
      const t = ts[i];
      if (t < lo || t >= hi) continue;
    }
    const v = visit[i];
    let g = q.hourly ? hour[i] : 0;
    if (nd > 0) {
      g = g * s0 + c0[v0 ? v : i];
      if (nd > 1) {
        g = g * s1 + c1[v1 ? v : i];
        for (let k = 2; k < nd; k++) g = g * sizes[k] + codes[k][perVisit[k] ? v : i];
      }
    }
    const name = nameCodes[i];
    if (name === en) {
      const e = eng[i];
      if (e !== NULL_INT) {
        engMs[g] += e;
        if (real[v] && lastEng[g] !== v) {
          lastEng[g] = v;
          engVisits[g]++;
        }
      }
      continue;
    }
    events[g]++;
    bytes[g] += bytesA[i];
    if (name === pv) {
      pageviews[g]++;
      const l = load[i];
      if (l !== NULL_INT) {
        loadMs[g] += l;
        loadN[g]++;
      }
    }
    if (real[v] && lastVisit[g] !== v) {
      lastVisit[g] = v;
      visits[g]++;
      bounces[g] += bounce[v];
      durMs[g] += dur[v];
      vpvs[g] += vpv[v];
      const who = visitorOf[v];
      if (who >= 0 && lastVisitor[g] !== who) {
        lastVisitor[g] = who;
        visitors[g]++;
      }
    }
  }

  const rows: SourceRow[] = [];
  for (let g = 0; g < G; g++) {
    if (events[g] === 0) continue;
    const keys: Array<string | null> = new Array(nd);
    let rest = g;
    for (let k = nd - 1; k >= 0; k--) {
      const c = rest % sizes[k];
      rest = (rest - c) / sizes[k];
      keys[k] = q.text(q.dims[k], dicts[k].values[c]);
    }
    const base: Base = [visitors[g], visits[g], pageviews[g], events[g], bounces[g], durMs[g], vpvs[g], bytes[g], loadMs[g], loadN[g], engMs[g], engVisits[g]];
    rows.push({ day: s.day, hour: q.hourly ? s.day * 24 + rest : null, keys, base });
  }
  return rows;
}
