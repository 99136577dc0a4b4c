// Per-site import progress (import_state in db/schema.ts): the newest imported log time and the
// fingerprints of the lines imported in the 5 minutes before it. Logs are only roughly ordered
// (Apache writes a line when the request ends, stamped with its start), so a line older than
// the newest is a duplicate only if it is older than the window, or its fingerprint is there.
// Fingerprints hash what is stored anyway — time, IP prefix, request, status, bytes, referrer
// and the browser/OS families — never the address or the full user-agent.
//
// Only the lines still inside the window when the watermark is saved (or copied) need their
// fingerprint, so a line's fields are kept and hashed then: a string built and hashed per line
// cost ~1.7 µs and ~670 bytes of garbage (14 % of what an import allocated); the bench log
// (4 lines/s) keeps ~1,200 of every ~6,400 lines in the window. (Writing each line's input as
// UTF-8 bytes into one buffer instead cost ~1.4 µs a line in the profile: kept fields ~0.2.)
import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import type { LogRecord } from './formats.ts';
import { Lru, ownCopy } from '../collector/lru.ts';

export const WINDOW_MS = 5 * 60_000;

export class Watermark {
  lastTs = -Infinity;
  /** fingerprint → [log time, how many identical lines] */
  recent = new Map<string, [number, number]>();

  /** Fingerprint inputs of recorded lines not hashed yet (see addLine). */
  private pending: PendingLines | null = null;

  clone(): Watermark {
    this.settle();
    const w = new Watermark();
    w.lastTs = this.lastTs;
    for (const [k, [ts, n]] of this.recent) w.recent.set(k, [ts, n]);
    return w;
  }

  /** Whether a line was imported before; consumes one occurrence when it was. */
  seen(ts: number, fp: string): boolean {
    if (ts > this.lastTs) return false;
    if (ts < this.lastTs - WINDOW_MS) return true;
    const e = this.recent.get(fp);
    if (!e || e[1] === 0) return false;
    e[1]--;
    return true;
  }

  /** Records an imported line. */
  add(ts: number, fp: string): void {
    if (ts > this.lastTs) this.lastTs = ts;
    if (ts < this.lastTs - WINDOW_MS) return;
    this.count(ts, fp);
  }

  private count(ts: number, fp: string): void {
    const e = this.recent.get(fp);
    if (e) e[1]++;
    else this.recent.set(fp, [ts, 1]);
  }

  /**
   * Records an imported line like add(ts, fingerprint(r, prefix, agent)), hashing it only if it is
   * still inside the window when the watermark is next saved or copied: an entry's time is in its
   * fingerprint, so one that has left the window can never match a later line, and prune() would
   * drop it before it is saved. The result is the same set of entries and counts.
   */
  addLine(r: LogRecord, prefix: string, agent: string): void {
    const ts = r.ts;
    if (ts > this.lastTs) this.lastTs = ts;
    if (ts < this.lastTs - WINDOW_MS) return;
    const p = (this.pending ??= new PendingLines());
    p.add(r, prefix, agent);
    if (p.n === PENDING_LINES) this.settle();
  }

  /** Hashes the pending lines that are still inside the window. */
  private settle(): void {
    const p = this.pending;
    if (!p || p.n === 0) return;
    const from = this.lastTs - WINDOW_MS;
    for (let i = 0; i < p.n; i++) {
      const ts = p.ts[i];
      if (ts >= from) this.count(ts, fingerprintOf(ts, p.prefix[i], p.method[i], p.path[i], p.status[i], p.bytes[i], p.referrer[i], p.agent[i]));
    }
    p.clear();
  }

  /** Forgets fingerprints that fell out of the window. */
  prune(): void {
    this.settle();
    for (const [k, [ts]] of this.recent) if (ts < this.lastTs - WINDOW_MS) this.recent.delete(k);
  }

  /** Whether seen() needs the fingerprint of a line at `ts` (otherwise its time decides). */
  consults(ts: number): boolean {
    return ts <= this.lastTs && ts >= this.lastTs - WINDOW_MS;
  }

  /** Whether a line at `ts` needs a fingerprint at all (it is inside a window). */
  inWindow(ts: number): boolean {
    return ts >= this.lastTs - WINDOW_MS;
  }
}

const oneShot = (crypto as unknown as { hash?: (alg: string, data: string, enc: string) => string }).hash;
const hashLine: (s: string) => string = typeof oneShot === 'function'
  ? (s) => oneShot('sha1', s, 'base64url').slice(0, 20)
  : (s) => crypto.createHash('sha1').update(s).digest('base64url').slice(0, 20);

export function fingerprint(r: LogRecord, prefix: string, agent: string): string {
  return fingerprintOf(r.ts, prefix, r.method, r.path, r.status, r.bytes, r.referrer, agent);
}

function fingerprintOf(ts: number, prefix: string, method: string, path: string, status: number, bytes: number | null, referrer: string | null, agent: string): string {
  // One-shot crypto.hash (Node ≥ 20.12) avoids a Hash object per line; 120 bits of SHA-1 are
  // plenty to tell lines of the same 5 minutes apart.
  return hashLine(`${ts}\n${prefix}\n${method}\n${path}\n${status}\n${bytes}\n${referrer}\n${agent}`);
}

/** Lines held before they are hashed or dropped. */
const PENDING_LINES = 8192;
/** Longer texts are copied per line rather than kept in the table of copies. */
const MAX_SHARED = 1024;

/** The fingerprint fields of lines waiting to be hashed, in columns reused from batch to batch. */
class PendingLines {
  readonly ts = new Float64Array(PENDING_LINES);
  readonly status: number[] = new Array(PENDING_LINES).fill(0);
  readonly bytes: Array<number | null> = new Array(PENDING_LINES).fill(null);
  readonly prefix: string[] = new Array(PENDING_LINES).fill('');
  readonly method: string[] = new Array(PENDING_LINES).fill('');
  readonly path: string[] = new Array(PENDING_LINES).fill('');
  readonly referrer: Array<string | null> = new Array(PENDING_LINES).fill(null);
  readonly agent: string[] = new Array(PENDING_LINES).fill('');
  n = 0;
  /** Copies of the texts kept, shared by the lines that repeat them. */
  private readonly copies = new Lru<string, string>(4096);

  add(r: LogRecord, prefix: string, agent: string): void {
    const i = this.n++;
    this.ts[i] = r.ts;
    this.status[i] = r.status;
    this.bytes[i] = r.bytes;
    this.prefix[i] = prefix;
    this.agent[i] = agent;
    this.method[i] = this.own(r.method);
    this.path[i] = this.own(r.path);
    this.referrer[i] = r.referrer === null ? null : this.own(r.referrer);
  }

  clear(): void {
    this.n = 0;
  }

  /** A text cut from the log line, as a copy (ownCopy: a view would keep the line's address). */
  private own(s: string): string {
    if (s.length > MAX_SHARED) return ownCopy(s);
    let c = this.copies.get(s);
    if (c === undefined) this.copies.set((c = ownCopy(s)), c);
    return c;
  }
}

export interface ImportStateRow {
  siteId: number;
  lastTs: number;
  boundary: string;
}

export class WatermarkStore {
  private readonly get: Database.Statement;
  private readonly put: Database.Statement;

  constructor(sqlite: Database.Database) {
    this.get = sqlite.prepare('SELECT last_ts AS lastTs, boundary FROM import_state WHERE site_id = ?');
    this.put = sqlite.prepare(`INSERT INTO import_state (site_id, last_ts, boundary, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(site_id) DO UPDATE SET last_ts = excluded.last_ts, boundary = excluded.boundary, updated_at = excluded.updated_at`);
  }

  load(siteId: number): Watermark {
    const w = new Watermark();
    const row = this.get.get(siteId) as { lastTs: number; boundary: string } | undefined;
    if (row) {
      w.lastTs = row.lastTs;
      for (const [fp, ts, n] of JSON.parse(row.boundary) as Array<[string, number, number]>) w.recent.set(fp, [ts, n]);
    }
    return w;
  }

  /** The row to store for a watermark (built on the importing thread, saved by the writer). */
  static row(siteId: number, w: Watermark): ImportStateRow | null {
    if (w.lastTs === -Infinity) return null;
    w.prune();
    return { siteId, lastTs: w.lastTs, boundary: JSON.stringify([...w.recent].map(([fp, [ts, n]]) => [fp, ts, n])) };
  }

  saveRow(row: ImportStateRow | null): void {
    if (row) this.put.run(row.siteId, row.lastTs, row.boundary, Date.now());
  }
}
