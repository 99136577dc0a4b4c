// The reports thread: its own SQLite connection for Stats API queries and rollup refreshes, so
// a slow report (a filtered month read raw: up to seconds) never stalls the hit path on the
// main thread. WAL lets it read beside the writer thread; rollup writes are short transactions.
// Rollups are refreshed one site at a time, yielding between sites so queries interleave.
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../store/db.ts';
import { registerReportFunctions } from './sql-functions.ts';
import { runQuery, type ReportContext } from './engine.ts';
import { QueryError } from './query-error.ts';
import { refreshRollups } from './rollups.ts';
import { exportCsv, type ExportParams } from './export.ts';

export interface ReportsInit {
  dbPath: string;
  refreshMs: number;
}
export type ToReports =
  | { type: 'query'; id: number; site: ReportContext['site']; goals: ReportContext['goals']; now: number; body: Record<string, unknown> }
  | { type: 'export'; id: number; site: ReportContext['site']; goals: ReportContext['goals']; now: number; params: ExportParams }
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
const port = parentPort!;
let closed = false;

const sites = () => store.sqlite.prepare('SELECT id, timezone FROM sites').all() as Array<{ id: number; timezone: string }>;

/** One refresh round, a site at a time with a yield between sites. */
async function refreshAll(now: number): Promise<number> {
  let days = 0;
  for (const site of sites()) {
    if (closed) break;
    days += refreshRollups(store.sqlite, [site], now, site.id).days;
    await new Promise((r) => setImmediate(r));
  }
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

port.on('message', (m: ToReports) => {
  if (m.type === 'query' || m.type === 'export') {
    try {
      const ctx = { sqlite: store.sqlite, site: m.site, goals: m.goals, now: m.now };
      const response = m.type === 'query' ? runQuery(ctx, m.body) : exportCsv(ctx, m.params);
      port.postMessage({ type: 'result', id: m.id, response } satisfies FromReports);
    } catch (e) {
      port.postMessage({ type: 'result', id: m.id, error: (e as Error).message, bad: e instanceof QueryError } satisfies FromReports);
    }
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
