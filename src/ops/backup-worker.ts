// The server's daily copy runs here, off the main thread: VACUUM INTO reads the whole database,
// which for a large one takes seconds that hits must not wait for. One run per thread.
import { parentPort, workerData } from 'node:worker_threads';
import { dailyBackup, BackupError } from './backup.ts';

export interface BackupInit { dbPath: string; dir: string; keep: number }
export type FromBackup =
  | { type: 'done'; file: string | null; bytes: number; ms: number; deleted: number }
  | { type: 'failed'; error: string };

const init = workerData as BackupInit;
try {
  const r = dailyBackup(init.dbPath, init.dir, init.keep);
  parentPort!.postMessage({
    type: 'done', file: r.written?.file ?? null, bytes: r.written?.bytes ?? 0, ms: r.written?.ms ?? 0, deleted: r.deleted.length,
  } satisfies FromBackup);
} catch (e) {
  // BackupError messages name paths and sizes only; anything else: its code or name.
  const error = e instanceof BackupError ? e.message : `${(e as { code?: string }).code ?? (e as Error).name}: ${(e as Error).message}`;
  parentPort!.postMessage({ type: 'failed', error } satisfies FromBackup);
}
