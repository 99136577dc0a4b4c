// /metrics in the Prometheus text format (prom-client), for operators. Instance-wide figures only:
// no metric has a site label, so the endpoint never tells anyone one site's traffic apart from
// another's — but on a one-site instance the hit counters are that site's hits, which is why the
// endpoint is off unless HUSH_METRICS_TOKEN is set and then wants that token (see the README).
// The hit path only adds one to a plain number (no label hashing, no allocation); the prom-client
// counters, the database size, key ages and queue depth are brought up to date when Prometheus scrapes.
import { stat } from 'node:fs/promises';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HitCounters, RefuseReason } from '../collector/collect.ts';

export interface MetricsSources {
  dbPath: string;
  /** Hits queued or committing in the writer. */
  queueDepth(): number;
  /** created_at (ms) of the newest and oldest daily key held, or null without keys. Never the keys. */
  keyTimes(): { newest: number | null; oldest: number | null };
  storeHealthy(): boolean;
  failedCommits(): number;
  now?: () => number;
}

const REASONS: RefuseReason[] = ['opt_out', 'unknown_site', 'bot', 'excluded', 'referrer_spam', 'no_visit', 'invalid', 'too_large', 'unavailable'];

async function size(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

export class Metrics implements HitCounters {
  readonly registry = new Registry();
  // Plain numbers on the hit path: prom-client's inc() hashes its labels object on every call.
  private acceptedN = 0;
  private readonly refusedN = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<RefuseReason, number>;
  private readonly commitSeconds: Histogram;
  private readonly batchHits: Histogram;
  private readonly querySeconds: Histogram;
  private readonly backupGauges: Record<'at' | 'seconds' | 'bytes' | 'failed', Gauge>;

  constructor(src: MetricsSources) {
    const registers = [this.registry];
    const now = src.now ?? Date.now;
    collectDefaultMetrics({ register: this.registry, prefix: 'hush_' });
    // The counters catch up with the plain numbers when Prometheus scrapes.
    const self = this;
    let acceptedSeen = 0;
    new Counter({
      name: 'hush_hits_accepted_total', help: 'Hits committed to disk and answered 202.', registers,
      collect() {
        this.inc(self.acceptedN - acceptedSeen);
        acceptedSeen = self.acceptedN;
      },
    });
    const refusedSeen = { ...this.refusedN };
    new Counter({
      name: 'hush_hits_refused_total', labelNames: ['reason'], registers,
      help: 'Hits not stored, by reason: a deliberate drop (opt_out, unknown_site, bot, excluded, referrer_spam, no_visit), invalid (400), too_large (413) or unavailable (503: the store could not write).',
      collect() {
        // Every reason is exported, at 0 until it happens (prom-client exports a label once touched).
        for (const r of REASONS) {
          this.inc({ reason: r }, self.refusedN[r] - refusedSeen[r]);
          refusedSeen[r] = self.refusedN[r];
        }
      },
    });
    // A WAL commit with synchronous=FULL takes ~0.15 ms here, 1,000 rows ~1.3 ms: buckets from 0.1 ms to 2.5 s.
    this.commitSeconds = new Histogram({
      name: 'hush_batch_commit_seconds', help: 'Time to write and commit one batch of hits (one transaction).', registers,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    this.batchHits = new Histogram({
      name: 'hush_batch_hits', help: 'Hits per committed batch (group commit grows batches with load).', registers,
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    });
    this.querySeconds = new Histogram({
      name: 'hush_report_query_seconds', labelNames: ['kind'], registers,
      help: 'Time to answer a report: a Stats API or dashboard query (query) or a CSV export (export).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    new Gauge({ name: 'hush_writer_queue_depth', help: 'Hits waiting for or inside the commit in flight.', registers, collect() { this.set(src.queueDepth()); } });
    new Gauge({ name: 'hush_store_healthy', help: '1 when the last commit succeeded, 0 while writes fail (disk full, I/O error) and hits get 503.', registers, collect() { this.set(src.storeHealthy() ? 1 : 0); } });
    let seenFailures = 0;
    new Counter({
      name: 'hush_store_failed_commits_total', help: 'Commits that failed and were rolled back: batches (their hits got 503) and the probes made while failing.', registers,
      collect() {
        const n = src.failedCommits();
        if (n > seenFailures) this.inc(n - seenFailures);
        seenFailures = n;
      },
    });
    new Gauge({
      name: 'hush_database_bytes', help: 'Size of the SQLite database file (main) and its write-ahead log (wal).', labelNames: ['file'], registers,
      async collect() {
        const [main, wal] = await Promise.all([size(src.dbPath), size(`${src.dbPath}-wal`)]);
        this.set({ file: 'main' }, main);
        this.set({ file: 'wal' }, wal);
      },
    });
    new Gauge({
      name: 'hush_daily_key_age_seconds', labelNames: ['key'], registers,
      help: 'Age of the newest and the oldest daily key held (from creation). A key is made on its UTC day and deleted once that day is older than yesterday (housekeeping runs every minute), so oldest stays under 48 h and a minute.',
      collect() {
        const t = src.keyTimes(), n = now();
        this.reset();
        if (t.newest !== null) this.set({ key: 'newest' }, (n - t.newest) / 1000);
        if (t.oldest !== null) this.set({ key: 'oldest' }, (n - t.oldest) / 1000);
      },
    });
    this.backupGauges = {
      at: new Gauge({ name: 'hush_backup_last_success_timestamp_seconds', help: 'When the last daily backup (HUSH_BACKUP_DIR) was completed.', registers }),
      seconds: new Gauge({ name: 'hush_backup_last_duration_seconds', help: 'How long the last daily backup took.', registers }),
      bytes: new Gauge({ name: 'hush_backup_last_bytes', help: 'Size of the last daily backup.', registers }),
      failed: new Gauge({ name: 'hush_backup_last_failed', help: '1 when the last daily backup failed (see the server log), else 0.', registers }),
    };
  }

  accepted(): void {
    this.acceptedN++;
  }

  refused(reason: RefuseReason): void {
    this.refusedN[reason]++;
  }

  commit(hits: number, ms: number): void {
    this.commitSeconds.observe(ms / 1000);
    this.batchHits.observe(hits);
  }

  /** Wraps a report call to time it. */
  timed<T>(kind: 'query' | 'export', fn: () => T | Promise<T>): Promise<T> {
    const end = this.querySeconds.startTimer({ kind });
    return Promise.resolve().then(fn).finally(() => end());
  }

  backup(r: { ok: true; at: number; ms: number; bytes: number } | { ok: false }): void {
    const g = this.backupGauges;
    g.failed.set(r.ok ? 0 : 1);
    if (!r.ok) return;
    g.at.set(r.at / 1000);
    g.seconds.set(r.ms / 1000);
    g.bytes.set(r.bytes);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
