// What a day's events add up to per visit: the input of every breakdown by a visit attribute
// (entry page, source, country, browser, device: five of a dashboard's six panels), which is
// then a pass over visits instead of over their events (~2.3 events per visit on the bench).
// A segment keeps its own (all events) from when it is read; a filter on visit attributes only
// picks the passing visits' rows out of them without reading an event.
import { NO_SCROLL, NULL_INT } from './segments.ts';

export interface VisitSums {
  /** Visit index (ascending, as the segment orders visits). */
  visit: Int32Array;
  /** Events that are not engagement reports. */
  events: Int32Array;
  pageviews: Int32Array;
  bytes: Float64Array;
  loadMs: Float64Array;
  loadN: Int32Array;
  engMs: Float64Array;
  /** 1 when an engagement report with a time is among them (the visit counts as engaged). */
  engaged: Uint8Array;
  /** The deepest scroll depth among their engagement reports, -1 without one. */
  scroll: Int16Array;
}

/** Bytes per visit row: 4 × 4 + 3 × 8 + 1 + 2. */
export const visitSumsBytes = (v: VisitSums) => v.visit.length * 43;

function empty(k: number): VisitSums {
  return {
    visit: new Int32Array(k), events: new Int32Array(k), pageviews: new Int32Array(k), bytes: new Float64Array(k),
    loadMs: new Float64Array(k), loadN: new Int32Array(k), engMs: new Float64Array(k), engaged: new Uint8Array(k),
    scroll: new Int16Array(k).fill(-1),
  };
}

interface Events {
  visit: Int32Array;
  name: { values: Array<number | null>; codes: Uint16Array };
  bytes: Float64Array;
  load: Int32Array;
  eng: Int32Array;
  scroll: Uint8Array;
}

/** Sums the events at `pos` (ascending positions, so a visit's events are adjacent) per visit. */
export function sumVisits(s: Events, pos: Int32Array, ids: { pageview: number; engagement: number }): VisitSums {
  let k = 0;
  for (let j = 0, last = -1; j < pos.length; j++) {
    const v = s.visit[pos[j]];
    if (v !== last) k++, last = v;
  }
  const out = empty(k);
  fill(pos, s.visit, s.name.codes, s.name.values.indexOf(ids.pageview), s.name.values.indexOf(ids.engagement),
    s.bytes, s.load, s.eng, s.scroll, out.visit, out.events, out.pageviews, out.bytes, out.loadMs, out.loadN, out.engMs, out.engaged, out.scroll);
  return out;
}

function fill(pos: Int32Array, visit: Int32Array, names: Uint16Array, pv: number, en: number, bytesA: Float64Array, load: Int32Array,
  eng: Int32Array, scrollA: Uint8Array, vOut: Int32Array, events: Int32Array, pageviews: Int32Array, bytes: Float64Array, loadMs: Float64Array,
  loadN: Int32Array, engMs: Float64Array, engaged: Uint8Array, scroll: Int16Array): void {
  let t = -1, last = -1;
  for (let j = 0; j < pos.length; j++) {
    const i = pos[j];
    const v = visit[i];
    if (v !== last) {
      last = v;
      vOut[++t] = v;
    }
    const name = names[i];
    if (name === en) {
      const e = eng[i];
      if (e !== NULL_INT) {
        engMs[t] += e;
        engaged[t] = 1;
      }
      const sd = scrollA[i];
      if (sd !== NO_SCROLL && sd > scroll[t]) scroll[t] = sd;
      continue;
    }
    events[t]++;
    bytes[t] += bytesA[i];
    if (name === pv) {
      pageviews[t]++;
      const l = load[i];
      if (l !== NULL_INT) {
        loadMs[t] += l;
        loadN[t]++;
      }
    }
  }
}

/** The rows of `all` (a segment's own sums: one row per visit, row = visit index) for the visits listed. */
export function pickVisits(all: VisitSums, visits: Int32Array): VisitSums {
  const out = empty(visits.length);
  for (let t = 0; t < visits.length; t++) {
    const v = visits[t];
    out.visit[t] = v;
    out.events[t] = all.events[v];
    out.pageviews[t] = all.pageviews[v];
    out.bytes[t] = all.bytes[v];
    out.loadMs[t] = all.loadMs[v];
    out.loadN[t] = all.loadN[v];
    out.engMs[t] = all.engMs[v];
    out.engaged[t] = all.engaged[v];
    out.scroll[t] = all.scroll[v];
  }
  return out;
}
