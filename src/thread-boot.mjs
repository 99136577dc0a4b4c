// Boots a worker thread written in TypeScript: a worker does not inherit this process's
// TypeScript loader on Node 20, so it registers tsx itself, then loads the module named in
// workerData.entry (a URL string). It first names the thread after its module (writer-worker.ts
// → "hush-writer") where Linux lets it, so `top -H`, `ps -L` and /proc/PID/task/*/comm tell the
// writer and the reports thread apart from V8's and libuv's (the ingestion bench reads them).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';

try {
  const base = new URL(workerData.entry).pathname.split('/').pop().replace(/(-worker)?\.[mc]?[jt]s$/, '');
  writeFileSync('/proc/thread-self/comm', `hush-${base}`.slice(0, 15));
} catch {
  // Not Linux, or /proc not mounted: the thread keeps its default name.
}
register();
await import(workerData.entry);
