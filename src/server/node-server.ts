// The Node server: wires the database, the pipeline and the app together, serves HTTP, runs the
// housekeeping timers and shuts down cleanly. POST /api/event is read off the socket by the
// event front (event-front.ts) when it is a plain, complete request, and otherwise takes a lean
// path on node:http (the same Collector as the Hono route): building a WHATWG Request and
// Response per hit cost more than the whole pipeline in profiles; every other route goes
// through Hono.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Config } from '../config.ts';
import { loadCountryTables } from '../pseudonymize/country-data.ts';
import type { EventRequest } from '../collector/collect.ts';
import { LIMITS } from '../collector/payload.ts';
import { createCore } from './core.ts';
import { loadBeacon } from './static-assets.ts';
import { DailyBackups } from '../ops/daily-backups.ts';
import { collectResponse, INTERNAL_ERROR, PREFLIGHT, TOO_LARGE, type EventResponse } from './event-response.ts';
import { EventFront } from './event-front.ts';

export interface RunningServer {
  port: number;
  url: string;
  /** Stops accepting, lets open requests finish, flushes the last batch and closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  log?: (line: string) => void;
  /** Serve POST /api/event through Hono instead of the lean path (for comparison in the bench). */
  honoOnly?: boolean;
  /** Read plain beacon requests off the socket or leave every request to node:http (default: config.eventFront). */
  front?: boolean;
  /** Commit in a worker thread (default) or on the main thread (for comparison in the bench). */
  writerThread?: boolean;
}

const SITE_REFRESH_MS = 5_000;
const CLOSE_GRACE_MS = 10_000;
/** Request headers are a few hundred bytes: a client that needs more than 10 s is stalling. */
const HEADERS_TIMEOUT_MS = 10_000;
/** An oversized body is read and discarded up to this size before the connection is cut. */
const DRAIN_LIMIT = 1 << 20;
/** How long the rest of an oversized body is drained before the 413 goes out anyway. */
const OVERSIZE_GRACE_MS = 1000;
/** Key deletion and visit pruning: keys go within 48 h of their day's end with a wide margin. */
const HOUSEKEEPING_MS = 60_000;
/** Retention runs hourly: it deletes whole local days, so finer is pointless. */
const RETENTION_MS = 3_600_000;

function header(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const countries = await loadCountryTables();
  const logError = (m: string) => console.error(m);
  const beacon = await loadBeacon();
  if (!beacon) log('warning: public/hush.js is missing (run `npm run build`); /hush.js answers 404');
  const core = await createCore(config, { countries, logError, log, beacon, writerThread: opts.writerThread ?? true, peer: (c) => getConnInfo(c).remote.address ?? '' });
  const { collector, app } = core;
  const honoListener = getRequestListener(app.fetch);
  const internalError = (e: unknown) => logError(`internal error on POST /api/event: ${(e as Error)?.name}`);
  /** A beacon body and its request facts → the answer; shared by the socket front and the lean path. */
  const collect = (body: string, facts: EventRequest): EventResponse | Promise<EventResponse> => {
    const r = collector.collectBody(body, facts);
    return r instanceof Promise ? r.then(collectResponse) : collectResponse(r);
  };

  const lean = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const send = (r: EventResponse) => {
      res.writeHead(r.status, r.headers);
      res.end(r.body ?? undefined);
    };
    const chunks: Buffer[] = [];
    let size = 0, tooLarge = false, answered = false, grace: NodeJS.Timeout | undefined;
    const refuse = () => {
      if (answered) return;
      answered = true;
      clearTimeout(grace);
      res.setHeader('Connection', 'close');
      core.metrics?.refused('too_large');
      send(TOO_LARGE);
    };
    const overLimit = () => {
      tooLarge = true;
      chunks.length = 0;
      // The rest of a finite body is read and dropped so the client can read the 413 instead of
      // a reset, but a body that never ends gets it after a second, and a huge one is cut.
      grace = setTimeout(refuse, OVERSIZE_GRACE_MS);
      res.once('close', () => clearTimeout(grace));
    };
    if (Number(req.headers['content-length'] ?? 0) > LIMITS.bodyBytes) refuse();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge || answered) {
        if (size > DRAIN_LIMIT) {
          refuse();
          req.destroy();
        }
      } else if (size > LIMITS.bodyBytes) overLimit();
      else chunks.push(chunk);
    });
    req.on('end', async () => {
      if (tooLarge || answered) return refuse();
      const body = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      const h = req.headers;
      const facts: EventRequest = {
        peer: req.socket.remoteAddress ?? '',
        forwardedFor: header(h['x-forwarded-for']),
        userAgent: header(h['user-agent']),
        acceptLanguage: header(h['accept-language']),
        dnt: header(h.dnt),
        gpc: header(h['sec-gpc']),
      };
      try {
        send(await collect(body, facts));
      } catch (e) {
        internalError(e);
        send(INTERNAL_ERROR);
      }
    });
    req.on('error', () => res.destroy());
  };

  const server = http.createServer({
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: Math.min(HEADERS_TIMEOUT_MS, config.requestTimeoutMs),
    // Node checks the two timeouts every 30 s by default: a 1 s timeout would then hold 30 s.
    connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs / 2),
  }, (req, res) => {
    if (!opts.honoOnly && req.url === '/api/event') {
      if (req.method === 'POST') return lean(req, res);
      if (req.method === 'OPTIONS') {
        res.writeHead(204, PREFLIGHT);
        res.end();
        return;
      }
    }
    honoListener(req, res);
  });
  server.keepAliveTimeout = 65_000;
  const front = opts.honoOnly || !(opts.front ?? config.eventFront) ? null
    : new EventFront(server, collect, { maxBodyBytes: LIMITS.bodyBytes, keepAliveMs: server.keepAliveTimeout, onError: internalError });

  const timers = [
    setInterval(() => core.directory.refresh(), SITE_REFRESH_MS),
    setInterval(() => {
      const { keysDeleted } = core.housekeeping();
      if (keysDeleted > 0) log(`deleted ${keysDeleted} expired daily key(s)`);
    }, HOUSEKEEPING_MS),
  ];
  const retention = () => {
    // Counts only: what was deleted, never which rows.
    for (const r of core.retention()) {
      if (r.events || r.visits || r.rollups) log(`retention: deleted ${r.events} events, ${r.visits} visits and ${r.rollups} rollup rows of ${r.domain} older than ${new Date(r.cutoff).toISOString()}`);
    }
  };
  retention();
  timers.push(setInterval(retention, RETENTION_MS));
  for (const t of timers) t.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const backups = config.backupDir ? new DailyBackups({ dbPath: config.dbPath, dir: config.backupDir, keep: config.backupKeep }, log, core.metrics) : null;
  backups?.start();
  // Due report mails, hourly (stopped by core.close()); without HUSH_SMTP_URL it logs once and sends nothing.
  core.emails.start();
  const shownHost = !config.host || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    port,
    url,
    close() {
      closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        await backups?.close();
        // Keep-alive connections become idle as their last response goes out; close them as
        // they do, and cut whatever is still open after the grace period.
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          const idle = () => {
            server.closeIdleConnections();
            front?.closeIdle();
          };
          const sweep = setInterval(idle, 25);
          const deadline = setTimeout(() => {
            server.closeAllConnections();
            front?.closeAll();
          }, CLOSE_GRACE_MS);
          server.once('close', () => { clearInterval(sweep); clearTimeout(deadline); });
          idle();
        });
        await core.close();
      })();
      return closing;
    },
  };
}
