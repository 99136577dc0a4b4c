// The writer thread: owns one SQLite connection and the HitWriter (visits included), and
// commits each batch it is sent. Moving commits here lets the main thread keep parsing
// requests while a WAL fsync is under way (synchronous=FULL: ~0.15 ms per commit here).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openDb } from './db.ts';
import { HitWriter } from './hit-writer.ts';
import { unpackHits, type PackedHits } from './hit-codec.ts';
import { errorCode } from './store-health.ts';

export interface WorkerInit {
  dbPath: string;
  synchronous: 'FULL' | 'NORMAL';
  /** HUSH_DB_MAX_MB: the file may not grow past it (a quota; full disk otherwise). */
  maxMb?: number;
  /** The reports thread's end for every committed batch (batch-digest.ts), when it keeps live rollups. */
  digests?: MessagePort;
}
export type ToWorker = { type: 'write'; id: number; hits: PackedHits } | { type: 'probe'; id: number } | { type: 'prune'; now: number } | { type: 'forget-strings' } | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'written'; id: number; results: string[]; ms: number }
  | { type: 'failed'; id: number; error: string; code: string }
  | { type: 'closed' };

const init = workerData as WorkerInit;
const store = openDb(init.dbPath, { synchronous: init.synchronous, migrate: false, maxMb: init.maxMb });
const digests = init.digests;
// Transferred, not copied: the batch's buffer is not used here again.
const writer = new HitWriter(store.sqlite, Date.now(), digests ? (buf) => digests.postMessage(buf, [buf.buffer as ArrayBuffer]) : undefined);
const port = parentPort!;

// The probe after a failed write, when no hit comes to try again: can the file grow by 64 KiB
// (rolled back: HUSH_DB_MAX_MB and page allocation) and can a commit reach the WAL (a real disk)?
const probeSpace = store.sqlite.prepare("INSERT INTO sequences (name, value) VALUES ('space probe', zeroblob(65536))");
const probeCommit = store.sqlite.prepare("UPDATE sequences SET value = value WHERE name = 'events'");
function probe(): void {
  store.sqlite.exec('BEGIN IMMEDIATE');
  try {
    store.sqlite.exec('SAVEPOINT space');
    probeSpace.run();
    store.sqlite.exec('ROLLBACK TO space');
    store.sqlite.exec('RELEASE space');
    probeCommit.run();
    store.sqlite.exec('COMMIT');
  } finally {
    if (store.sqlite.inTransaction) store.sqlite.exec('ROLLBACK');
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'write') {
    try {
      const t0 = performance.now();
      const results = writer.write(unpackHits(m.hits));
      port.postMessage({ type: 'written', id: m.id, results, ms: performance.now() - t0 } satisfies FromWorker);
    } catch (e) {
      // The message and code only: SQLite errors name tables and constraints, never row values.
      port.postMessage({ type: 'failed', id: m.id, error: (e as Error).message, code: errorCode(e) } satisfies FromWorker);
    }
  } else if (m.type === 'probe') {
    try {
      const t0 = performance.now();
      probe();
      port.postMessage({ type: 'written', id: m.id, results: [], ms: performance.now() - t0 } satisfies FromWorker);
    } catch (e) {
      port.postMessage({ type: 'failed', id: m.id, error: (e as Error).message, code: errorCode(e) } satisfies FromWorker);
    }
  } else if (m.type === 'prune') {
    writer.prune(m.now);
  } else if (m.type === 'forget-strings') {
    writer.forgetStrings();
  } else if (m.type === 'close') {
    store.close();
    port.postMessage({ type: 'closed' } satisfies FromWorker);
  }
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
