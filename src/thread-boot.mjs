// Boots a worker thread written in TypeScript: a worker does not inherit this process's
// TypeScript loader on Node 20, so it registers tsx itself, then loads the module named in
// workerData.entry (a URL string).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
