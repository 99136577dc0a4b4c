// Hush as the bench runs it: the real server (full pipeline, durable acknowledgement) with an
// option to route /api/event through Hono (--hono) or node:http's lean path (--no-front) instead
// of the socket front, to measure what each costs.
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/server/node-server.ts';

const server = await startServer(loadConfig(), { honoOnly: process.argv.includes('--hono'), front: !process.argv.includes('--no-front'), writerThread: !process.argv.includes('--inline'), log: () => {} });
console.log(`listening on ${server.url.replace('localhost', '127.0.0.1')}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
