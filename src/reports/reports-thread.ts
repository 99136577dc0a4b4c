// The main thread's side of the reports thread: queries and refreshes as promises.
import { Worker } from 'node:worker_threads';
import type { ReportContext, QueryResponse } from './engine.ts';
import { QueryError } from './query-error.ts';
import type { ReportsInit, ToReports, FromReports } from './reports-worker.ts';
import type { ExportParams } from './export.ts';

interface Pending { resolve: (v: never) => void; reject: (e: unknown) => void }

export class ReportsThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: FromReports) => this.onMessage(m));
    worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }

  static async start(init: ReportsInit): Promise<ReportsThread> {
    const worker = new Worker(new URL('../thread-boot.mjs', import.meta.url), {
      workerData: { ...init, entry: new URL('./reports-worker.ts', import.meta.url).href },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: FromReports) => (m.type === 'ready' ? resolve() : reject(new Error('reports thread failed to start'))));
      worker.once('error', reject);
    });
    return new ReportsThread(worker);
  }

  private call<T>(msg: ToReports & { id: number }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.set(msg.id, { resolve: resolve as (v: never) => void, reject });
      this.worker.postMessage(msg);
    });
  }

  query(ctx: Omit<ReportContext, 'sqlite'>, body: Record<string, unknown>): Promise<QueryResponse> {
    return this.call({ type: 'query', id: this.nextId++, site: ctx.site, goals: ctx.goals, now: ctx.now, body });
  }

  exportCsv(ctx: Omit<ReportContext, 'sqlite'>, params: ExportParams): Promise<string[]> {
    return this.call({ type: 'export', id: this.nextId++, site: ctx.site, goals: ctx.goals, now: ctx.now, params });
  }

  /** Runs a refresh round now (the thread also runs one on its timer). */
  refresh(now: number): Promise<number> {
    return this.call({ type: 'refresh', id: this.nextId++, now });
  }

  private onMessage(m: FromReports): void {
    if (m.type === 'closed') {
      void this.worker.terminate();
      return;
    }
    if (m.type === 'ready') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
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
