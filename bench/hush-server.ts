// Hush as the bench runs it: the real server (full pipeline, durable acknowledgement) with an
// option to route /api/event through Hono instead of the lean path, to measure what it costs.
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/server/node-server.ts';

const server = await startServer(loadConfig(), { honoOnly: process.argv.includes('--hono'), writerThread: !process.argv.includes('--inline'), log: () => {} });
console.log(`listening on ${server.url.replace('localhost', '127.0.0.1')}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
