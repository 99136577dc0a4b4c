// What a committed batch wrote, packed for the reports thread's live rollups: every event's and
// every touched visit's string ids and numbers in one Float64Array, transferred (not copied) once
// per batch. Reading the same rows back from SQLite cost more per event than writing them did
// (measured: ~1.6× the writer's own time per hit); this costs ~12 + 25 numbers per hit.
//
// Layout: [prev, last, events, visits], then per event EVENT_FIELDS and per visit VISIT_FIELDS.
// `prev` is the `events` sequence value before the batch's ids were reserved and `last` its last
// id: ids between two digests were written by another process. null is NaN.
import { ROLLUP_DIMENSIONS } from '../reports/dimensions.ts';

const HEADER = 4;
/** Per event: id, site, ts, visit id, then the columns live-rollups reads (see decodeDigest). */
const EVENT_FIELDS = 12;
const VISIT_DIMS = ROLLUP_DIMENSIONS.filter((d) => d.kind === 'visit');
const VISIT_FIELDS = 7 + VISIT_DIMS.length;

const n = (x: number | null) => (x === null ? NaN : x);
const back = (x: number) => (Number.isNaN(x) ? null : x);

/** Collects one batch (begin → event/visit → send or discard). */
export class BatchDigest {
  private events: number[] = [];
  private visits: number[] = [];
  private prev = 0;
  private last = 0;
  /** Where each visit dimension's id is in the writer's visit id list (source: 0 when none). */
  private readonly dimAt: number[];
  private readonly sourceAt: number;

  constructor(private readonly post: (digest: Float64Array) => void, visitColumns: string[]) {
    this.dimAt = VISIT_DIMS.map((d) => visitColumns.indexOf(d.name === 'visit:source' ? 'source_id' : d.sql.replace(/^v[pa]?\./, '')));
    if (this.dimAt.includes(-1)) throw new Error('a rolled-up visit dimension is not a visit column');
    this.sourceAt = VISIT_DIMS.findIndex((d) => d.name === 'visit:source');
  }

  begin(prev: number, last: number): void {
    this.discard();
    this.prev = prev;
    this.last = last;
  }

  event(id: number, site: number, ts: number, visitId: number, name: number, host: number, page: number, status: number | null,
    bytes: number | null, loadMs: number | null, engagementMs: number | null, scrollDepth: number | null): void {
    this.events.push(id, site, ts, visitId, name, n(bytes), n(loadMs), n(engagementMs), page, host, n(status), n(scrollDepth));
  }

  visit(id: number, visitorId: bigint, start: number, end: number, bounce: number, pageviews: number, ids: Array<number | null>): void {
    // The visitor id in the two halves SQL gives (visitor_id >> 32, visitor_id & 0xffffffff).
    this.visits.push(id, Number(visitorId >> 32n), Number(visitorId & 0xffffffffn), start, end, bounce, pageviews);
    for (let i = 0; i < this.dimAt.length; i++) {
      const x = ids[this.dimAt[i]];
      this.visits.push(i === this.sourceAt ? (x ?? 0) : n(x));
    }
  }

  send(): void {
    const buf = new Float64Array(HEADER + this.events.length + this.visits.length);
    buf[0] = this.prev;
    buf[1] = this.last;
    buf[2] = this.events.length / EVENT_FIELDS;
    buf[3] = this.visits.length / VISIT_FIELDS;
    buf.set(this.events, HEADER);
    buf.set(this.visits, HEADER + this.events.length);
    this.discard();
    this.post(buf);
  }

  discard(): void {
    this.events = [];
    this.visits = [];
  }
}

export interface DecodedDigest {
  prev: number;
  last: number;
  /** Per site: event rows [id, ts, visit id, name, bytes, load ms, engagement ms, scroll depth, page, host, name, status]. */
  events: Map<number, unknown[][]>;
  /** Visit rows [id, visitor hi, visitor lo, start, end, bounce, page views, ...visit dimensions]. */
  visits: Map<number, unknown[]>;
}

/** The last event id a digest holds (without decoding it). */
export const digestLast = (buf: Float64Array): number => buf[1];

/** Unpacks a digest into the rows live-rollups reads from SQL (same columns, same order). */
export function decodeDigest(buf: Float64Array): DecodedDigest {
  const out: DecodedDigest = { prev: buf[0], last: buf[1], events: new Map(), visits: new Map() };
  let i = HEADER;
  for (let k = 0; k < buf[2]; k++, i += EVENT_FIELDS) {
    const site = buf[i + 1];
    let list = out.events.get(site);
    if (!list) out.events.set(site, (list = []));
    // Two slots more: the reader appends the local day and hour.
    list.push([buf[i], buf[i + 2], buf[i + 3], buf[i + 4], back(buf[i + 5]), back(buf[i + 6]), back(buf[i + 7]), back(buf[i + 11]), buf[i + 8], buf[i + 9], buf[i + 4], back(buf[i + 10]), 0, 0]);
  }
  for (let k = 0; k < buf[3]; k++, i += VISIT_FIELDS) {
    const row: unknown[] = new Array(VISIT_FIELDS);
    for (let j = 0; j < VISIT_FIELDS; j++) row[j] = back(buf[i + j]);
    out.visits.set(buf[i], row);
  }
  return out;
}
