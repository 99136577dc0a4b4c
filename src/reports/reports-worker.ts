// The reports thread: its own SQLite connection for Stats API queries and rollup refreshes, so
// a slow report (a filtered month read raw: up to seconds) never stalls the hit path on the
// main thread. WAL lets it read beside the writer thread; rollup writes are short transactions.
// Rollups are refreshed one site at a time, yielding between sites so queries interleave.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openDb } from '../store/db.ts';
import { registerReportFunctions } from './sql-functions.ts';
import { execute, queryFor, type ReportContext } from './engine.ts';
import { setSegmentBudget } from './segment-cache.ts';
import { prefetch, readsSegments, warmFor } from './segment-warmer.ts';
import type { Query } from './query.ts';
import { QueryError } from './query-error.ts';
import { refreshRollups } from './rollups.ts';
import { LiveRollups } from './live-rollups.ts';
import { exportCsv, type ExportParams } from './export.ts';
import { funnelSliced } from './funnel.ts';

export interface ReportsInit {
  dbPath: string;
  /** Where the writer thread sends each committed batch (batch-digest.ts), for the live rollups. */
  digests?: MessagePort;
  refreshMs: number;
  /** HUSH_REPORT_CACHE_MB: memory for cached day segments. */
  cacheMb?: number;
}
export type ToReports =
  | { type: 'query'; id: number; site: ReportContext['site']; goals: ReportContext['goals']; now: number; body: Record<string, unknown> }
  | { type: 'export'; id: number; site: ReportContext['site']; goals: ReportContext['goals']; now: number; params: ExportParams }
  | { type: 'funnel'; id: number; site: ReportContext['site']; goals: ReportContext['goals']; now: number; body: Record<string, unknown> }
  | { type: 'refresh'; id: number; now: number }
  | { type: 'close' };
export type FromReports =
  | { type: 'ready' }
  | { type: 'result'; id: number; response?: unknown; error?: string; bad?: boolean }
  | { type: 'refreshed'; id: number; days: number }
  | { type: 'closed' };

const init = workerData as ReportsInit;
const store = openDb(init.dbPath, { migrate: false });
registerReportFunctions(store.sqlite);
if (init.cacheMb !== undefined) setSegmentBudget(init.cacheMb);
const port = parentPort!;
let closed = false;
const stopped = () => closed;

const sites = () => store.sqlite.prepare('SELECT id, timezone FROM sites').all() as Array<{ id: number; timezone: string }>;

// Today's rollups (and earlier days' while a visit of theirs is open) are kept in memory and
// updated from the events of each round alone (live-rollups.ts).
const live = new LiveRollups();
init.digests?.on('message', (buf: Float64Array) => live.receive(buf));
// The port alone must not keep the thread alive after close.
init.digests?.unref();

/** One refresh round, a site at a time with a yield between sites. */
async function refreshAll(now: number): Promise<number> {
  let days = 0;
  const all = sites();
  live.keepOnly(new Set(all.map((s) => s.id)));
  const plan = init.digests ? live.plan(store.sqlite) : undefined;
  for (const site of all) {
    if (closed) break;
    days += refreshRollups(store.sqlite, [site], now, site.id, live, plan).days;
    await new Promise((r) => setImmediate(r));
  }
  if (plan && !closed) live.finish(plan);
  return days;
}

let running: Promise<number> | null = null;
const refresh = (now: number) => (running ??= refreshAll(now).finally(() => { running = null; }));

// Rebuilding a busy site's day reads all of that day's events, on the same cores as the hit path:
// the next round waits at least 19× as long as the last one took, so rollups take at most ~5% of
// a core. Measured with `npm run bench` (server pinned to one core, all its threads on it):
// 16.9k hits/s without rollups, 12.3k with a 9× wait, 14.2k with 19×.
let timer: NodeJS.Timeout;
const schedule = (wait: number) => {
  timer = setTimeout(() => {
    const t0 = Date.now();
    void refresh(t0).catch(() => undefined).finally(() => {
      if (!closed) schedule(Math.max(init.refreshMs, 19 * (Date.now() - t0)));
    });
  }, wait);
};
schedule(init.refreshMs);

function answer(id: number, run: () => unknown): void {
  try {
    port.postMessage({ type: 'result', id, response: run() } satisfies FromReports);
  } catch (e) {
    port.postMessage({ type: 'result', id, error: (e as Error).message, bad: e instanceof QueryError } satisfies FromReports);
  }
}

// Queries whose days are read run one per turn of the event loop, taking sites in turn: when
// a dashboard's eight queries become ready together, another site's query waits for one of
// them, not for all eight (and messages that arrive meanwhile are read between them).
const ready = new Map<number, Array<() => void>>();
let pumping = false;

function runWhenReady(siteId: number, job: () => void): void {
  let q = ready.get(siteId);
  if (!q) ready.set(siteId, (q = []));
  q.push(job);
  if (pumping) return;
  pumping = true;
  setImmediate(pump);
}

function pump(): void {
  const next = ready.entries().next();
  if (next.done) {
    pumping = false;
    return;
  }
  const [siteId, jobs] = next.value;
  const job = jobs.shift()!;
  // The site goes to the back of the line.
  ready.delete(siteId);
  if (jobs.length) ready.set(siteId, jobs);
  job();
  setImmediate(pump);
}

/**
 * A query: a filtered one first has its days read 30 ms at a time (other sites' queries run in
 * between), then runs when its site's turn comes; an unfiltered one runs at once and has its
 * days read in the background, ready for the first click on a row.
 */
async function query(m: Extract<ToReports, { type: 'query' }>): Promise<void> {
  const ctx: ReportContext = { sqlite: store.sqlite, site: m.site, goals: m.goals, now: m.now };
  let q: Query;
  try {
    q = queryFor(ctx, m.body);
  } catch (e) {
    return answer(m.id, () => { throw e; });
  }
  const run = () => answer(m.id, () => {
    if (closed) throw new Error('the reports thread is closing');
    return execute(ctx, q);
  });
  if (!readsSegments(q)) {
    run();
    prefetch(store.sqlite, m.site, q, stopped);
    return;
  }
  await warmFor(store.sqlite, m.site, q, stopped).catch(() => undefined);
  runWhenReady(m.site.id, run);
}

port.on('message', (m: ToReports) => {
  if (m.type === 'query') {
    void query(m);
  } else if (m.type === 'export') {
    answer(m.id, () => exportCsv({ sqlite: store.sqlite, site: m.site, goals: m.goals, now: m.now }, m.params));
  } else if (m.type === 'funnel') {
    // Days not cached yet are read 30 ms at a time: other queries and sites are answered in between.
    void funnelSliced({ sqlite: store.sqlite, site: m.site, goals: m.goals, now: m.now }, m.body, stopped)
      .then((r) => answer(m.id, () => r), (e) => answer(m.id, () => { throw e; }));
  } else if (m.type === 'refresh') {
    // A failed round answers too: an unanswered call would wait in the main thread's map for good.
    void refresh(m.now).then(
      (days) => port.postMessage({ type: 'refreshed', id: m.id, days } satisfies FromReports),
      (e) => port.postMessage({ type: 'result', id: m.id, error: (e as Error).message } satisfies FromReports),
    );
  } else if (m.type === 'close') {
    closed = true;
    clearTimeout(timer);
    void (running ?? Promise.resolve()).finally(() => {
      store.close();
      port.postMessage({ type: 'closed' } satisfies FromReports);
    });
  }
});
port.postMessage({ type: 'ready' } satisfies FromReports);
