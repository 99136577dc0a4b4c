// The main thread's side of the writer thread: a HitSink that queues hits and keeps at most
// one batch in flight. While a batch commits, new hits queue up and go out together next, so
// batches grow with load (group commit) and each promise settles only after its COMMIT.
import { Worker } from 'node:worker_threads';
import type { Hit, DropReason } from '../collector/hit.ts';
import type { HitSink } from '../collector/collect.ts';
import type { WorkerInit, ToWorker, FromWorker } from './writer-worker.ts';
import { PROBE_INTERVAL_MS, StoreHealth, StoreUnavailable } from './store-health.ts';
import { packHits } from './hit-codec.ts';

/** Told of every commit (for /metrics): its size and how long the transaction took. */
export type CommitObserver = (hits: number, ms: number) => void;

type Result = 'ok' | DropReason;
const UNAVAILABLE = new StoreUnavailable('the store is refusing hits after a failed write');
interface Pending { resolve: (r: Result) => void; reject: (e: unknown) => void }

export class WriterThread implements HitSink {
  private readonly worker: Worker;
  private queue: Hit[] = [];
  private waiting: Pending[] = [];
  private inFlight: Pending[] | null = null;
  private nextId = 1;
  private closed = false;
  private onClosed: (() => void) | null = null;
  readonly health = new StoreHealth();
  private probeTimer: NodeJS.Timeout | null = null;
  onCommit: CommitObserver | null = null;

  private constructor(worker: Worker, private readonly maxItems: number) {
    this.worker = worker;
    worker.on('message', (m: FromWorker) => this.onMessage(m));
  }

  /** Starts the thread and waits until its connection is open. */
  static async start(init: WorkerInit, maxItems: number): Promise<WriterThread> {
    const worker = new Worker(new URL('../thread-boot.mjs', import.meta.url), {
      workerData: { ...init, entry: new URL('./writer-worker.ts', import.meta.url).href },
      transferList: init.digests ? [init.digests] : [],
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: FromWorker) => (m.type === 'ready' ? resolve() : reject(new Error('writer thread failed to start'))));
      worker.once('error', reject);
    });
    const t = new WriterThread(worker, maxItems);
    worker.on('error', (e) => t.failAll(e));
    return t;
  }

  submit(hit: Hit): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    // Just failed (disk full): refuse at once for a moment instead of queueing behind a doomed try.
    if (this.health.refusing()) return Promise.reject(UNAVAILABLE);
    return new Promise<Result>((resolve, reject) => {
      this.queue.push(hit);
      this.waiting.push({ resolve, reject });
      if (!this.inFlight) this.send();
    });
  }

  private send(): void {
    if (this.queue.length === 0) return;
    const hits = this.queue.length > this.maxItems ? this.queue.splice(0, this.maxItems) : this.queue;
    const pending = this.queue === hits ? this.waiting : this.waiting.splice(0, hits.length);
    if (hits === this.queue) {
      this.queue = [];
      this.waiting = [];
    }
    this.inFlight = pending;
    // Packed: numbers moved in one buffer, strings once per batch (hit-codec.ts: ~4× cheaper than objects).
    const packed = packHits(hits);
    this.worker.postMessage({ type: 'write', id: this.nextId++, hits: packed } satisfies ToWorker, [packed.nums.buffer as ArrayBuffer]);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'written' || m.type === 'failed') {
      const batch = this.inFlight ?? [];
      this.inFlight = null;
      if (m.type === 'written') {
        this.health.ok();
        if (batch.length) this.onCommit?.(batch.length, m.ms);
        for (let i = 0; i < batch.length; i++) batch[i].resolve(m.results[i] as Result);
      } else {
        // The whole batch was rolled back: none of it is acknowledged, all of it gets a 503.
        this.health.failed(m.code);
        const err = new StoreUnavailable(m.error);
        for (const p of batch) p.reject(err);
        // Hits queued behind the failed batch are refused too rather than tried at once.
        this.failQueued(err);
        this.scheduleProbe();
      }
      this.send();
      if (!this.inFlight && this.queue.length === 0 && this.onClosed) this.onClosed();
    } else if (m.type === 'closed') {
      void this.worker.terminate();
    }
  }

  /**
   * After a failure, try again in PROBE_INTERVAL_MS even if no hit comes: otherwise /healthz would
   * stay 503 until the next hit, and a load balancer that stops sending hits to a 503 backend
   * would never see it recover. A batch in flight then is the probe itself.
   */
  private scheduleProbe(): void {
    if (this.probeTimer || this.closed) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      if (this.health.healthy || this.closed) return;
      if (this.inFlight) return; // its outcome decides, and reschedules on failure
      this.inFlight = [];
      this.worker.postMessage({ type: 'probe', id: this.nextId++ } satisfies ToWorker);
    }, PROBE_INTERVAL_MS);
    this.probeTimer.unref();
  }

  private failQueued(e: unknown): void {
    for (const p of this.waiting) p.reject(e);
    this.queue = [];
    this.waiting = [];
  }

  private failAll(e: unknown): void {
    for (const p of [...(this.inFlight ?? []), ...this.waiting]) p.reject(e);
    this.inFlight = null;
    this.queue = [];
    this.waiting = [];
  }

  /** Forgets visits that can no longer be extended. */
  prune(now: number): void {
    this.worker.postMessage({ type: 'prune', now } satisfies ToWorker);
  }

  /** Drops cached string ids (after unused values were deleted in another connection). */
  forgetStrings(): void {
    this.worker.postMessage({ type: 'forget-strings' } satisfies ToWorker);
  }

  get pending(): number {
    return this.queue.length + (this.inFlight?.length ?? 0);
  }

  /** Refuses new hits, waits for everything queued to commit, closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    if (this.inFlight || this.queue.length) await new Promise<void>((r) => (this.onClosed = r));
    const exited = new Promise((r) => this.worker.once('exit', r));
    this.worker.postMessage({ type: 'close' } satisfies ToWorker);
    await exited;
  }
}
