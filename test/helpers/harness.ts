// Test harness: a real SQLite file in a fresh temp dir, the real country database, the real
// app. `at` moves the clock so tests can cross visit gaps and midnights deterministically.
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.ts';
import { createCore, type Core } from '../../src/server/core.ts';
import { loadCountryTables } from '../../src/pseudonymize/country-data.ts';
import { VISIT_JOINS } from '../../src/reports/dimensions.ts';
import { ACQUISITION_COLS, PLATFORM_COLS } from '../../src/store/visit-profiles.ts';

export const UA = {
  firefox: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  chromeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
};

const text = (col: string) => `(SELECT value FROM strings WHERE id = ${col})`;
const VISIT_TEXT = ['referrer', 'source', 'channel', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'country',
  'browser', 'browser_version', 'os', 'os_version', 'device', 'language', 'screen'];
/** Where each visit attribute is stored: the visit row, or its platforms/acquisitions row (VISIT_JOINS). */
const attr = (c: string) => `${(PLATFORM_COLS as readonly string[]).includes(`${c}_id`) ? 'vp' : (ACQUISITION_COLS as readonly string[]).includes(`${c}_id`) ? 'va' : 'v'}.${c}_id`;
/** The visit's own events (what the visit row no longer repeats: host, custom event count, engaged time). */
const ofVisit = (what: string, where = 'true', tail = '') => `(SELECT ${what} FROM events x WHERE x.site_id = v.site_id AND x.visit_id = v.id AND ${where} ${tail})`;

/** Visits with their string ids decoded: `SELECT … FROM ${VISITS_DECODED} WHERE …` reads like a text table. */
export const VISITS_DECODED = `(SELECT v.id, v.site_id, v.visitor_id, v.start_ts, v.end_ts, ${text('v.entry_page_id')} AS entry_page,
  ${text('v.exit_page_id')} AS exit_page, ${ofVisit(text('x.host_id'), 'true', 'ORDER BY x.ts, x.id LIMIT 1')} AS hostname, v.pageviews,
  ${ofVisit('count(*)', `${text('x.name_id')} NOT IN ('pageview', 'engagement') AND NOT (x.from_log = 1 AND ${text('x.name_id')} = 'request')`)} AS events,
  v.bounce, ${ofVisit('coalesce(sum(x.engagement_ms), 0)', `${text('x.name_id')} = 'engagement'`)} AS engagement_ms,
  ${VISIT_TEXT.map((c) => `${text(attr(c))} AS ${c}`).join(', ')} FROM visits v ${VISIT_JOINS}) AS visits`;

/**
 * Events with their text decoded and their visit's attributes (visitor id, source, country, …,
 * stored once on the visit): `SELECT … FROM ${EVENTS_WITH_VISITS} WHERE …` reads like one table.
 */
export const EVENTS_WITH_VISITS = `(SELECT e.id, e.site_id, e.ts, e.visit_id, ${text('e.name_id')} AS name, ${text('e.host_id')} AS hostname,
  ${text('e.page_id')} AS pathname, e.bytes, e.status, e.load_ms, e.engagement_ms, e.props, e.revenue_amount, e.revenue_currency,
  e.interactive, CASE e.from_log WHEN 1 THEN 'log' ELSE 'script' END AS source_type, v.visitor_id,
  ${VISIT_TEXT.map((c) => `${text(attr(c))} AS ${c}`).join(', ')}
  FROM events e LEFT JOIN visits v ON v.id = e.visit_id ${VISIT_JOINS}) AS events`;

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'hush-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Harness {
  core: Core;
  dir: string;
  dbPath: string;
  clock: { now: number };
  /** POSTs an event through the real Hono app; `ip` is the socket peer. */
  post(body: unknown, opts?: { ip?: string; ua?: string; headers?: Record<string, string> }): Promise<Response>;
  /** Closes the core and opens a new one on the same file, as a restart would. */
  reopen(): Promise<void>;
  /** Raw bytes of the database file and its WAL. */
  fileBytes(): Buffer;
  close(): Promise<void>;
}

export async function harness(env: Record<string, string> = {}, start = Date.UTC(2026, 5, 15, 12, 0, 0)): Promise<Harness> {
  const { dir, cleanup } = tempDir();
  const dbPath = path.join(dir, 'hush.db');
  const config: Config = loadConfig({ HUSH_DB: dbPath, ...env });
  const clock = { now: start };
  const countries = await loadCountryTables();
  const make = () => createCore(config, {
    countries,
    clock: () => clock.now,
    // The socket address arrives as an env binding, the way @hono/node-server passes the socket.
    peer: (c) => (c.env as { peer?: string } | undefined)?.peer ?? '198.51.100.7',
  });
  let core = await make();
  let closed = false;
  return {
    get core() { return core; },
    dir, dbPath, clock,
    async reopen() {
      await core.close();
      core = await make();
    },
    async post(body, opts = {}) {
      const req = new Request('http://hush.test/api/event', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'User-Agent': opts.ua ?? UA.firefox, ...opts.headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return core.app.fetch(req, { peer: opts.ip ?? '198.51.100.7' });
    },
    fileBytes() {
      const parts = [dbPath, `${dbPath}-wal`].filter(existsSync).map((f) => readFileSync(f));
      return Buffer.concat(parts);
    },
    async close() {
      if (closed) return;
      closed = true;
      await core.close();
      cleanup();
    },
  };
}
