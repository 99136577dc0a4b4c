// Per-site import progress (import_state in db/schema.ts): the newest imported log time and the
// fingerprints of the lines imported in the 5 minutes before it. Logs are only roughly ordered
// (Apache writes a line when the request ends, stamped with its start), so a line older than
// the newest is a duplicate only if it is older than the window, or its fingerprint is there.
// Fingerprints hash what is stored anyway — time, IP prefix, request, status, bytes, referrer
// and the browser/OS families — never the address or the full user-agent.
import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import type { LogRecord } from './formats.ts';

export const WINDOW_MS = 5 * 60_000;

export class Watermark {
  lastTs = -Infinity;
  /** fingerprint → [log time, how many identical lines] */
  recent = new Map<string, [number, number]>();

  clone(): Watermark {
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
    const e = this.recent.get(fp);
    if (e) e[1]++;
    else this.recent.set(fp, [ts, 1]);
  }

  /** Forgets fingerprints that fell out of the window. */
  prune(): void {
    for (const [k, [ts]] of this.recent) if (ts < this.lastTs - WINDOW_MS) this.recent.delete(k);
  }

  /** Whether a line at `ts` needs a fingerprint at all (it is inside a window). */
  inWindow(ts: number): boolean {
    return ts >= this.lastTs - WINDOW_MS;
  }
}

const hashLine: (s: string) => string = typeof (crypto as { hash?: unknown }).hash === 'function'
  ? (s) => (crypto as unknown as { hash(alg: string, s: string, enc: string): string }).hash('sha1', s, 'base64url').slice(0, 20)
  : (s) => crypto.createHash('sha1').update(s).digest('base64url').slice(0, 20);

export function fingerprint(r: LogRecord, prefix: string, agent: string): string {
  // One-shot crypto.hash (Node ≥ 20.12) avoids a Hash object per line; 120 bits of SHA-1 are
  // plenty to tell lines of the same 5 minutes apart.
  return hashLine(`${r.ts}\n${prefix}\n${r.method}\n${r.path}\n${r.status}\n${r.bytes}\n${r.referrer}\n${agent}`);
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
