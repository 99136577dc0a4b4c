// The writer thread: owns one SQLite connection and the HitWriter (visits included), and
// commits each batch it is sent. Moving commits here lets the main thread keep parsing
// requests while a WAL fsync is under way (synchronous=FULL: ~0.15 ms per commit here).
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from './db.ts';
import { HitWriter } from './hit-writer.ts';
import type { Hit } from '../collector/hit.ts';

export interface WorkerInit {
  dbPath: string;
  synchronous: 'FULL' | 'NORMAL';
}
export type ToWorker = { type: 'write'; id: number; hits: Hit[] } | { type: 'prune'; now: number } | { type: 'forget-strings' } | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'written'; id: number; results: string[] }
  | { type: 'failed'; id: number; error: string }
  | { type: 'closed' };

const init = workerData as WorkerInit;
const store = openDb(init.dbPath, { synchronous: init.synchronous, migrate: false });
const writer = new HitWriter(store.sqlite);
const port = parentPort!;

port.on('message', (m: ToWorker) => {
  if (m.type === 'write') {
    try {
      port.postMessage({ type: 'written', id: m.id, results: writer.write(m.hits) } satisfies FromWorker);
    } catch (e) {
      // The message only: SQLite errors name tables and constraints, never row values.
      port.postMessage({ type: 'failed', id: m.id, error: (e as Error).message } satisfies FromWorker);
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
