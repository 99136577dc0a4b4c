// Per-site import progress (see import_state in db/schema.ts): the newest imported timestamp and
// the fingerprints of the lines at exactly that timestamp.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { LogRecord } from './formats.ts';

export interface Watermark {
  lastTs: number;
  boundary: Set<string>;
}

/** A fingerprint of a log line that holds the IP prefix, never the address. */
export function fingerprint(r: LogRecord, prefix: string): string {
  return createHash('sha256')
    .update(`${r.ts}\n${prefix}\n${r.method}\n${r.path}\n${r.status}\n${r.bytes}\n${r.referrer}\n${r.userAgent}`)
    .digest('base64url').slice(0, 16);
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
    const row = this.get.get(siteId) as { lastTs: number; boundary: string } | undefined;
    return row ? { lastTs: row.lastTs, boundary: new Set(JSON.parse(row.boundary) as string[]) } : { lastTs: -Infinity, boundary: new Set() };
  }

  save(siteId: number, w: Watermark): void {
    if (w.lastTs === -Infinity) return;
    this.put.run(siteId, w.lastTs, JSON.stringify([...w.boundary]), Date.now());
  }
}
