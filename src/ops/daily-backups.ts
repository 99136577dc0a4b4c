// The server's daily copy (HUSH_BACKUP_DIR, HUSH_BACKUP_KEEP): at start and then hourly, if
// today's (UTC) copy is missing it is written in a worker thread and older copies beyond KEEP are
// deleted. Hourly checks mean a server that was down at midnight still makes the day's copy.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BackupInit, FromBackup } from './backup-worker.ts';
import type { Metrics } from './metrics.ts';

/** How often the server checks whether today's copy exists (1 h). */
export const BACKUP_CHECK_MS = 3_600_000;

export class DailyBackups {
  private running: Promise<void> | null = null;
  private worker: Worker | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly init: BackupInit, private readonly log: (l: string) => void, private readonly metrics: Metrics | null) {}

  start(): void {
    void this.run();
    this.timer = setInterval(() => void this.run(), BACKUP_CHECK_MS);
    this.timer.unref();
  }

  /** One check (never two at once); resolves when it is over, whatever happened. */
  run(): Promise<void> {
    this.running ??= this.check().finally(() => (this.running = null));
    return this.running;
  }

  private async check(): Promise<void> {
    // Today's copy exists (23 of 24 hourly checks): no thread needed.
    const today = path.join(this.init.dir, `hush-${new Date().toISOString().slice(0, 10)}.db`);
    if (await access(today).then(() => true, () => false)) return;
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const w = new Worker(new URL('../thread-boot.mjs', import.meta.url), {
        workerData: { ...this.init, entry: new URL('./backup-worker.ts', import.meta.url).href },
      });
      this.worker = w;
      w.once('message', (m: FromBackup) => {
        if (m.type === 'failed') {
          this.log(`backup: failed: ${m.error}`);
          this.metrics?.backup({ ok: false });
        } else if (m.file) {
          this.log(`backup: wrote ${m.file} (${(m.bytes / 1_048_576).toFixed(1)} MB in ${(m.ms / 1000).toFixed(2)} s, daily keys left out)${m.deleted ? `; deleted ${m.deleted} older cop${m.deleted === 1 ? 'y' : 'ies'}` : ''}`);
          this.metrics?.backup({ ok: true, at: Date.now(), ms: m.ms, bytes: m.bytes });
        }
      });
      w.once('error', (e) => {
        this.log(`backup: failed: ${e.name}`);
        this.metrics?.backup({ ok: false });
      });
      w.once('exit', () => {
        this.worker = null;
        resolve();
      });
    });
  }

  /** Stops the timer and a copy under way (its partial file is deleted by the next run). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.worker?.terminate();
    await this.running;
  }
}
