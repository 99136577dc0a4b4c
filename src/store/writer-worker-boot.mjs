// Boots the writer thread: a worker does not inherit this process's TypeScript loader on
// Node 20, so it registers tsx itself before loading the TypeScript module.
import { register } from 'tsx/esm/api';

register();
await import('./writer-worker.ts');
