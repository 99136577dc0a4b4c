// The main thread's side of the reports thread: queries and refreshes as promises. A query body
// is bounded (checkQueryShape) before it is posted: one nested 50,000 deep made postMessage throw
// a RangeError in the structured clone, a 500, and left its entry in `pending` for good. Every
// way a call can end (answer, postMessage throwing, the thread failing or exiting, a timeout)
// now removes its entry.
import { Worker } from 'node:worker_threads';
import type { ReportContext, QueryResponse } from './engine.ts';
import { QueryError } from './query-error.ts';
import { checkQueryShape } from './query.ts';
import type { ReportsInit, ToReports, FromReports } from './reports-worker.ts';
import type { ExportParams } from './export.ts';
import { checkFunnelShape, type FunnelResponse } from './funnel.ts';

interface Pending { resolve: (v: never) => void; reject: (e: unknown) => void; timer?: NodeJS.Timeout }

/**
 * How long a query or an export may take before its caller gets an error. The thread is not
 * interrupted (SQLite runs synchronously there) and its late answer is dropped; the HTTP request
 * does not hang. The slowest report measured (a filtered year read raw) takes seconds.
 */
export const QUERY_TIMEOUT_MS = 120_000;

export class ReportsThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(private readonly worker: Worker, private readonly timeoutMs: number) {
    worker.on('message', (m: FromReports) => this.onMessage(m));
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', (code) => this.failAll(new Error(`the reports thread exited (code ${code})`)));
  }

  /** Calls waiting for an answer (0 when idle; tests check nothing leaks). */
  get pendingCount(): number {
    return this.pending.size;
  }

  private failAll(e: unknown): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(e);
  }

  /** Removes a call's entry and its timer; the entry, if it was still there. */
  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  static async start(init: ReportsInit, opts: { timeoutMs?: number } = {}): Promise<ReportsThread> {
    const worker = new Worker(new URL('../thread-boot.mjs', import.meta.url), {
      workerData: { ...init, entry: new URL('./reports-worker.ts', import.meta.url).href },
      transferList: init.digests ? [init.digests] : [],
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: FromReports) => (m.type === 'ready' ? resolve() : reject(new Error('reports thread failed to start'))));
      worker.once('error', reject);
    });
    return new ReportsThread(worker, opts.timeoutMs ?? QUERY_TIMEOUT_MS);
  }

  /** Posts a call; `timed` calls fail after timeoutMs (a refresh round may rightly take longer). */
  private call<T>(msg: ToReports & { id: number }, timed: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: never) => void, reject };
      this.pending.set(msg.id, p);
      if (timed) {
        p.timer = setTimeout(() => this.settle(msg.id)?.reject(new Error(`the reports thread did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        p.timer.unref();
      }
      try {
        this.worker.postMessage(msg);
      } catch (e) {
        // Not cloneable (checkQueryShape should have refused it): a bad request, never a leak.
        this.settle(msg.id);
        reject(e instanceof RangeError || (e as Error)?.name === 'DataCloneError' ? new QueryError('the request body could not be passed on (too deeply nested)') : e);
      }
    });
  }

  query(ctx: Omit<ReportContext, 'sqlite'>, body: Record<string, unknown>): Promise<QueryResponse> {
    try {
      checkQueryShape(body);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.call({ type: 'query', id: this.nextId++, site: ctx.site, goals: ctx.goals, now: ctx.now, body }, true);
  }

  exportCsv(ctx: Omit<ReportContext, 'sqlite'>, params: ExportParams): Promise<string[]> {
    return this.call({ type: 'export', id: this.nextId++, site: ctx.site, goals: ctx.goals, now: ctx.now, params }, true);
  }

  funnel(ctx: Omit<ReportContext, 'sqlite'>, body: Record<string, unknown>): Promise<FunnelResponse> {
    try {
      checkFunnelShape(body);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.call({ type: 'funnel', id: this.nextId++, site: ctx.site, goals: ctx.goals, now: ctx.now, body }, true);
  }

  /** Runs a refresh round now (the thread also runs one on its timer). */
  refresh(now: number): Promise<number> {
    return this.call({ type: 'refresh', id: this.nextId++, now }, false);
  }

  private onMessage(m: FromReports): void {
    if (m.type === 'closed') {
      void this.worker.terminate();
      return;
    }
    if (m.type === 'ready') return;
    const p = this.settle(m.id);
    if (!p) return; // timed out: the caller has had its error
    if (m.type === 'refreshed') p.resolve(m.days as never);
    else if (m.error !== undefined) p.reject(m.bad ? new QueryError(m.error) : new Error(m.error));
    else p.resolve(m.response as never);
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.worker.once('exit', r));
    this.worker.postMessage({ type: 'close' } satisfies ToReports);
    await exited;
  }
}
