// What a committed batch wrote, packed for the reports thread's live rollups: every event's and
// every touched visit's string ids and numbers in one Float64Array, transferred (not copied) once
// per batch. Reading the same rows back from SQLite cost more per event than writing them did
// (measured: ~1.6× the writer's own time per hit); this costs ~12 + 25 numbers per hit.
//
// Layout: [prev, last, events, visits], then per event EVENT_FIELDS and per visit VISIT_FIELDS.
// `prev` is the `events` sequence value before the batch's ids were reserved and `last` its last
// id: ids between two digests were written by another process. null is NaN.
import { ROLLUP_DIMENSIONS } from '../reports/dimensions.ts';
import { hiOf, loOf } from './id-halves.ts';

const HEADER = 4;
/** Per event: id, site, ts, visit id, then the columns live-rollups reads (see Digest.events). */
const EVENT_FIELDS = 12;
const VISIT_DIMS = ROLLUP_DIMENSIONS.filter((d) => d.kind === 'visit');
const VISIT_FIELDS = 7 + VISIT_DIMS.length;

const n = (x: number | null) => (x === null ? NaN : x);
const back = (x: number) => (Number.isNaN(x) ? null : x);

/** Collects one batch (begin → event/visit → send or discard). */
export class BatchDigest {
  /**
   * The batch's numbers, written in place (events, then visits: the writer records every event
   * before the visits) and copied once, exactly sized, to send. Pushed into two number[] and
   * copied, they were ~1 µs of the writer per hit and garbage the size of the batch.
   */
  private buf = new Float64Array(HEADER + 64 * (EVENT_FIELDS + VISIT_FIELDS));
  private at = HEADER;
  private events = 0;
  private visits = 0;
  /** Where each visit dimension's id is in the writer's visit id list (source: 0 when none). */
  private readonly dimAt: number[];
  private readonly sourceAt: number;

  constructor(private readonly post: (digest: Float64Array) => void, visitColumns: string[]) {
    this.dimAt = VISIT_DIMS.map((d) => visitColumns.indexOf(d.name === 'visit:source' ? 'source_id' : d.sql.replace(/^v[pa]?\./, '')));
    if (this.dimAt.includes(-1)) throw new Error('a rolled-up visit dimension is not a visit column');
    this.sourceAt = VISIT_DIMS.findIndex((d) => d.name === 'visit:source');
  }

  /** A batch of at most `hits` hits (so at most as many events and visits). */
  begin(prev: number, last: number, hits: number): void {
    const need = HEADER + hits * (EVENT_FIELDS + VISIT_FIELDS);
    if (this.buf.length < need) this.buf = new Float64Array(need);
    this.buf[0] = prev;
    this.buf[1] = last;
    this.discard();
  }

  event(id: number, site: number, ts: number, visitId: number, name: number, host: number, page: number, status: number | null,
    bytes: number | null, loadMs: number | null, engagementMs: number | null, scrollDepth: number | null): void {
    const b = this.buf;
    let i = this.at;
    b[i++] = id; b[i++] = site; b[i++] = ts; b[i++] = visitId; b[i++] = name; b[i++] = n(bytes);
    b[i++] = n(loadMs); b[i++] = n(engagementMs); b[i++] = page; b[i++] = host; b[i++] = n(status); b[i++] = n(scrollDepth);
    this.at = i;
    this.events++;
  }

  visit(id: number, visitorId: bigint, start: number, end: number, bounce: number, pageviews: number, ids: Array<number | null>): void {
    const b = this.buf, dimAt = this.dimAt;
    let i = this.at;
    // The visitor id in the two halves SQL gives (visitor_id >> 32, visitor_id & 0xffffffff).
    b[i++] = id; b[i++] = hiOf(visitorId); b[i++] = loOf(visitorId); b[i++] = start; b[i++] = end; b[i++] = bounce; b[i++] = pageviews;
    for (let k = 0; k < dimAt.length; k++) {
      const x = ids[dimAt[k]];
      b[i++] = k === this.sourceAt ? (x ?? 0) : n(x);
    }
    this.at = i;
    this.visits++;
  }

  send(): void {
    const b = this.buf;
    b[2] = this.events;
    b[3] = this.visits;
    const out = b.slice(0, this.at);
    this.discard();
    this.post(out);
  }

  discard(): void {
    this.at = HEADER;
    this.events = this.visits = 0;
  }
}

/** The last event id a digest holds (without decoding it). */
export const digestLast = (buf: Float64Array): number => buf[1];

/**
 * A digest as a round applies it, unpacked on demand into the rows live-rollups reads from SQL
 * (same columns, same order): a site's event rows just before they are applied, a visit's row when
 * asked for. Unpacked whole when the round began, a round's rows (~400 bytes a hit) all lived
 * until its end, and the scavenges during the round copied them.
 */
export class Digest {
  readonly prev: number;
  readonly last: number;
  /** Offset of each visit's numbers, by visit id (made on first use; shared by the sites). */
  private visitAt: Map<number, number> | null = null;

  constructor(private readonly buf: Float64Array) {
    this.prev = buf[0];
    this.last = buf[1];
  }

  /**
   * The site's event rows [id, ts, visit id, name, bytes, load ms, engagement ms, scroll depth,
   * page, host, name, status, and two places for the reader's local day and hour]; none: undefined.
   */
  events(siteId: number): unknown[][] | undefined {
    const buf = this.buf;
    let list: unknown[][] | undefined;
    for (let k = 0, i = HEADER; k < buf[2]; k++, i += EVENT_FIELDS) {
      if (buf[i + 1] !== siteId) continue;
      (list ??= []).push([buf[i], buf[i + 2], buf[i + 3], buf[i + 4], back(buf[i + 5]), back(buf[i + 6]), back(buf[i + 7]), back(buf[i + 11]), buf[i + 8], buf[i + 9], buf[i + 4], back(buf[i + 10]), 0, 0]);
    }
    return list;
  }

  private visits(): Map<number, number> {
    if (this.visitAt === null) {
      const buf = this.buf, at = new Map<number, number>();
      for (let k = 0, i = HEADER + buf[2] * EVENT_FIELDS; k < buf[3]; k++, i += VISIT_FIELDS) at.set(buf[i], i);
      this.visitAt = at;
    }
    return this.visitAt;
  }

  has(visitId: number): boolean {
    return this.visits().has(visitId);
  }

  /** The visit's row [id, visitor hi, visitor lo, start, end, bounce, page views, ...visit dimensions]. */
  get(visitId: number): unknown[] | undefined {
    const i = this.visits().get(visitId);
    if (i === undefined) return undefined;
    const buf = this.buf, row: unknown[] = new Array(VISIT_FIELDS);
    for (let j = 0; j < VISIT_FIELDS; j++) row[j] = back(buf[i + j]);
    return row;
  }
}
