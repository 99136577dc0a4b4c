// Per-site import progress (import_state in db/schema.ts): the newest imported log time and the
// fingerprints of the lines imported in the 5 minutes before it. Logs are only roughly ordered
// (Apache writes a line when the request ends, stamped with its start), so a line older than
// the newest is a duplicate only if it is older than the window, or its fingerprint is there.
// Fingerprints hash what is stored anyway — time, IP prefix, request, status, bytes, referrer
// and the browser/OS families — never the address or the full user-agent.
//
// Only the lines still inside the window when the watermark is saved (or copied) need their
// fingerprint, so a line's fingerprint input is written as bytes into one buffer and hashed then:
// a string built and hashed per line cost ~1.7 µs and ~670 bytes of garbage (14 % of what an
// import allocated); the bench log (4 lines/s) keeps ~1,200 of every ~6,400 lines in the window.
import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import type { LogRecord } from './formats.ts';

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
    if (!p.write(r, prefix, agent)) {
      this.settle();
      this.count(ts, fingerprint(r, prefix, agent)); // too long for the buffer: hashed now
    } else if (p.full()) this.settle();
  }

  /** Hashes the pending lines that are still inside the window. */
  private settle(): void {
    const p = this.pending;
    if (!p || p.n === 0) return;
    const from = this.lastTs - WINDOW_MS;
    for (let i = 0; i < p.n; i++) {
      const ts = p.ts[i];
      if (ts >= from) this.count(ts, hashBytes(p.bytes.subarray(p.start[i], p.start[i + 1])));
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

const oneShot = (crypto as unknown as { hash?: (alg: string, data: string | Buffer, enc: string) => string }).hash;
const hashLine: (s: string | Buffer) => string = typeof oneShot === 'function'
  ? (s) => oneShot('sha1', s, 'base64url').slice(0, 20)
  : (s) => crypto.createHash('sha1').update(s).digest('base64url').slice(0, 20);
/** The fingerprint of a line's input already encoded as UTF-8 (the same bytes the string gives). */
const hashBytes = (b: Buffer) => hashLine(b);

export function fingerprint(r: LogRecord, prefix: string, agent: string): string {
  // One-shot crypto.hash (Node ≥ 20.12) avoids a Hash object per line; 120 bits of SHA-1 are
  // plenty to tell lines of the same 5 minutes apart.
  return hashLine(`${r.ts}\n${prefix}\n${r.method}\n${r.path}\n${r.status}\n${r.bytes}\n${r.referrer}\n${agent}`);
}

const NL = 0x0a;
/** Lines held before they are hashed or dropped, and the most bytes one line may take. */
const PENDING_LINES = 8192, PENDING_BYTES = 4 << 20, MAX_LINE_INPUT = 64 << 10;

/** Fingerprint inputs — fingerprint()'s string, as UTF-8 — of lines waiting to be hashed. */
class PendingLines {
  bytes = Buffer.allocUnsafe(1 << 20);
  /** Line i's bytes are start[i] … start[i + 1]. */
  readonly start = new Float64Array(PENDING_LINES + 1);
  readonly ts = new Float64Array(PENDING_LINES);
  n = 0;

  full(): boolean {
    return this.n === PENDING_LINES || this.start[this.n] > PENDING_BYTES;
  }

  clear(): void {
    this.n = 0;
  }

  /** Appends a line's input; false when it is too long to keep (the caller hashes it at once). */
  write(r: LogRecord, prefix: string, agent: string): boolean {
    const path = r.path, referrer = r.referrer;
    const most = 3 * (prefix.length + r.method.length + path.length + (referrer?.length ?? 4) + agent.length) + 120;
    if (most > MAX_LINE_INPUT) return false;
    let at = this.start[this.n];
    if (at + most > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, at + most));
      this.bytes.copy(grown, 0, 0, at);
      this.bytes = grown;
    }
    const b = this.bytes;
    // Numbers as a template literal prints them (String() of a recent number is cached by V8).
    at = this.text(String(r.ts), at);
    b[at++] = NL;
    at = this.text(prefix, at);
    b[at++] = NL;
    at = this.text(r.method, at);
    b[at++] = NL;
    at = this.text(path, at);
    b[at++] = NL;
    at = this.text(String(r.status), at);
    b[at++] = NL;
    at = this.text(String(r.bytes), at);
    b[at++] = NL;
    at = this.text(referrer === null ? 'null' : referrer, at);
    b[at++] = NL;
    at = this.text(agent, at);
    this.ts[this.n] = r.ts;
    this.start[++this.n] = at;
    return true;
  }

  /**
   * Writes a string as UTF-8: ASCII byte by byte here (five Buffer.write calls per line cost
   * ~1.5 µs, more than building and hashing the string did), the rest from the first other
   * character on by Buffer.write.
   */
  private text(s: string, at: number): number {
    const b = this.bytes;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return at + b.write(i === 0 ? s : s.slice(i), at, 'utf8');
      b[at++] = c;
    }
    return at;
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
