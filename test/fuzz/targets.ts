// Property-based fuzzing of everything a visitor, a key holder or a dashboard viewer can send,
// against a real server on a real port and a real SQLite file (fast-check). Properties: never a
// 5xx, never an error escaping, a 4xx names the field, no input makes one request cost more than
// a fixed budget, nothing logged holds an IP address or a user-agent. The same targets run with
// a small budget inside `npm test` (test/fuzz.test.ts) and a big one in `npm run fuzz`.
import fc from 'fast-check';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/server/node-server.ts';
import { openDb } from '../../src/store/db.ts';
import { SiteRepo } from '../../src/store/sites.ts';
import { ApiKeyRepo } from '../../src/store/api-keys.ts';
import { UserRepo } from '../../src/accounts/users.ts';
import { SessionStore, SESSION_COOKIE } from '../../src/accounts/sessions.ts';
import { FORMATS, parserFor, customParser } from '../../src/import/formats.ts';
import { maskLine } from '../../src/import/mask.ts';
import { compileGlobs } from '../../src/matchers/glob.ts';
import { compileRegex, RegexError } from '../../src/matchers/regex.ts';
import { ipsIn, USER_AGENT, scrub } from '../../src/privacy/personal-data.ts';
import { tempDir } from '../helpers/harness.ts';

export interface FuzzOptions {
  runs: number;
  seed?: number;
  /** Longest one request or call may take, in ms (generous: these machines are noisy). */
  budgetMs: number;
}

export interface FuzzResult {
  name: string;
  cases: number;
  slowestMs: number;
}

// ---------------------------------------------------------------------------------------------
// Inputs: hostile strings mixed with plausible ones, so that cases get past the first check.

const HOSTILE = [
  '', ' ', '\r\n', 'a\r\nSet-Cookie: x=1', '\u0000', '\u2028', 'ключ', '😀', '%', '%zz', '../../etc/passwd', '"', "'", '\\', '<script>',
  '(a+)+$', '^(a|a)*$', '**a**a**a**b', '*'.repeat(300), 'a'.repeat(3000), '/' + 'a'.repeat(500) + '!', '203.0.113.99', '2001:db8::1',
  '__proto__', 'constructor', 'toString', '(none)', 'NaN', '-1', '1e309', '{}', '[]', 'null',
];
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '*', '/', '.', '(', ')', '+', '|', '?', '[', ']', '\\', ':', '"'), maxLength: 60 }) },
);
const leaf = fc.oneof(hostileString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(hostileString, tie('value'), { maxKeys: 4 })),
})).value;

// ---------------------------------------------------------------------------------------------
// The server under test.

export interface Target {
  server: RunningServer;
  apiKey: string;
  cookie: string;
  /** Everything the server logged. */
  logged: string[];
  close(): Promise<void>;
}

export async function startTarget(): Promise<Target> {
  const t = tempDir();
  const dbPath = path.join(t.dir, 'hush.db');
  const store = openDb(dbPath);
  const site = new SiteRepo(store.db).add({ domain: 'example.com', excludePaths: '/admin/**,/drafts/*', minVisitors: 1 });
  new SiteRepo(store.db).add({ domain: 'other.org' });
  const apiKey = new ApiKeyRepo(store.db).create(site.id);
  const users = new UserRepo(store.db);
  const user = await users.create('owner@example.com', 'correct horse battery', true);
  const { token } = new SessionStore(store.db).create(user.id);
  store.close();
  const logged: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => { logged.push(a.join(' ')); };
  const server = await startServer(loadConfig({ HUSH_DB: dbPath, PORT: '0', HOST: '127.0.0.1', HUSH_ROLLUP_MS: '100' }), { log: (l) => logged.push(l) });
  // A few hits, one with a long path for regexes and globs to chew on.
  for (const p of ['/', '/blog/a', '/' + 'a'.repeat(29) + '!', '/pricing']) {
    await fetch(`${server.url}/api/event`, { method: 'POST', body: JSON.stringify({ n: 'pageview', u: `https://example.com${p}`, d: 'example.com' }), headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' } });
  }
  return {
    server, apiKey, cookie: `${SESSION_COOKIE}=${token}`, logged,
    async close() {
      await server.close();
      console.error = original;
      t.cleanup();
    },
  };
}

/**
 * Times one request; fails the case on a 5xx, a refused connection or a blown budget. Over
 * budget, the request is sent twice more and the fastest counts (see `within`).
 */
async function timed(budgetMs: number, slowest: { ms: number }, send: () => Promise<Response>): Promise<{ r: Response; body: string }> {
  let best = Infinity, r!: Response, body = '';
  for (let i = 0; i < 3 && best > budgetMs; i++) {
    const t0 = performance.now();
    r = await send();
    body = await r.text();
    best = Math.min(best, performance.now() - t0);
    if (r.status >= 500) throw new Error(`${r.status}: ${body.slice(0, 200)}`);
  }
  slowest.ms = Math.max(slowest.ms, best);
  if (best > budgetMs) throw new Error(`took ${best.toFixed(0)} ms, three times (budget ${budgetMs})`);
  return { r, body };
}

/** A 400's error names the field (or the body as a whole). */
function namesField(body: string, extra: RegExp): void {
  const { error } = JSON.parse(body) as { error: string };
  // A props key is the site's own name for a property: any characters (cut to 40) after "props.".
  if (typeof error !== 'string' || !(/^"[\w.$:[\]-]+"/.test(error) || /^"props\./.test(error) || extra.test(error))) throw new Error(`400 without a field: ${error}`);
}

/** Nothing logged may hold an IP address or a user-agent (the server logs counts and names only). */
export function checkLogs(t: Target): void {
  for (const line of t.logged) {
    if (ipsIn(line).length || USER_AGENT.test(line)) throw new Error(`a log line holds an address or a user-agent: ${line.slice(0, 120)}`);
    if (/internal error/.test(line)) throw new Error(`an internal error was logged: ${line.slice(0, 200)}`);
  }
}

async function run(name: string, o: FuzzOptions, prop: fc.IAsyncPropertyWithHooks<unknown[]> | fc.IPropertyWithHooks<unknown[]>, slowest: { ms: number }): Promise<FuzzResult> {
  await fc.assert(prop as fc.IAsyncProperty<unknown[]>, { numRuns: o.runs, seed: o.seed, endOnFailure: true });
  return { name, cases: o.runs, slowestMs: slowest.ms };
}

// ---------------------------------------------------------------------------------------------
// HTTP targets

const EVENT_KEYS = ['n', 'name', 'u', 'url', 'd', 'domain', 'r', 'referrer', 'p', 'props', '$', 'revenue', 'i', 'interactive', 'h',
  'sw', 'sh', 'l', 'b', 's', 'lt', 'e', 'screen_width', 'language', 'bytes', 'status', 'engagement_ms'];
const plausibleEvent = fc.record({
  n: fc.oneof(fc.constantFrom('pageview', 'engagement', 'Signup'), hostileString),
  u: fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.constantFrom('https://example.com/', 'https://203.0.113.9/x', 'https://[2001:db8::1]/'), hostileString.map((s) => `https://example.com/${s}`)),
  d: fc.oneof(fc.constantFrom('example.com', 'other.org', 'example.com,other.org'), hostileString),
}, { requiredKeys: [] });
const eventBody = fc.oneof(
  fc.tuple(plausibleEvent, fc.dictionary(fc.constantFrom(...EVENT_KEYS), anyJson, { maxKeys: 6 })).map(([a, b]) => JSON.stringify({ ...a, ...b })),
  anyJson.map((v) => JSON.stringify(v)),
  hostileString,
);

export function fuzzEventApi(t: Target, o: FuzzOptions): Promise<FuzzResult> {
  const slowest = { ms: 0 };
  return run('POST /api/event', o, fc.asyncProperty(eventBody, fc.constantFrom('text/plain', 'application/json', 'text/html'), async (body, type) => {
    const { r, body: answer } = await timed(o.budgetMs, slowest, () => fetch(`${t.server.url}/api/event`, { method: 'POST', body, headers: { 'Content-Type': type, 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0' } }));
    if (![202, 400, 413].includes(r.status)) throw new Error(`status ${r.status}`);
    if (r.status === 400) namesField(answer, /^the request body/);
  }), slowest);
}

export function fuzzPixel(t: Target, o: FuzzOptions): Promise<FuzzResult> {
  const slowest = { ms: 0 };
  const params = fc.dictionary(fc.oneof(fc.constantFrom(...EVENT_KEYS), hostileString), fc.oneof(hostileString, anyJson.map((v) => JSON.stringify(v))), { maxKeys: 8 });
  return run('GET /api/event.gif', o, fc.asyncProperty(params, plausibleEvent, async (extra, ev) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...ev, ...extra })) if (typeof v === 'string') q.append(k, v);
    const { r } = await timed(o.budgetMs, slowest, () => fetch(`${t.server.url}/api/event.gif?${q}`, { headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/121.0' } }));
    if (![200, 400].includes(r.status)) throw new Error(`status ${r.status}`);
    const err = r.headers.get('x-hush-error');
    if (err !== null && !/^invalid "[a-z_$]+"$/.test(err)) throw new Error(`X-Hush-Error carries more than a field name: ${err}`);
  }), slowest);
}

const DIMENSIONS = ['event:page', 'event:hostname', 'event:name', 'event:goal', 'event:props:plan', 'event:status', 'visit:source', 'visit:country',
  'visit:browser', 'visit:entry_page', 'visit:utm_source', 'visit:language', 'time:day', 'time', 'nope', 'event:props:'];
const METRICS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration', 'events', 'percentage', 'conversion_rate', 'time_on_page', 'bytes', 'nope'];
const dimension = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...DIMENSIONS) }, { weight: 1, arbitrary: anyJson });
const simpleFilter = fc.tuple(fc.constantFrom('is', 'is_not', 'contains', 'contains_not', 'matches', 'matches_not', 'bogus'), dimension,
  fc.oneof(fc.array(hostileString, { minLength: 1, maxLength: 4 }), anyJson), fc.option(fc.oneof(fc.record({ case_sensitive: fc.boolean() }), anyJson), { nil: undefined }))
  .map(([op, d, c, m]) => (m === undefined ? [op, d, c] : [op, d, c, m]));
const filterTree = fc.letrec((tie) => ({
  f: fc.oneof({ depthSize: 'small', maxDepth: 12 }, simpleFilter,
    fc.tuple(fc.constantFrom('and', 'or'), fc.array(tie('f'), { maxLength: 5 })),
    fc.tuple(fc.constant('not'), tie('f')), anyJson),
})).f;
const query = fc.record({
  site_id: fc.oneof({ weight: 8, arbitrary: fc.constant('example.com') }, { weight: 1, arbitrary: anyJson }),
  metrics: fc.oneof(fc.uniqueArray(fc.constantFrom(...METRICS), { minLength: 1, maxLength: 4 }), anyJson),
  date_range: fc.oneof(fc.constantFrom('day', '7d', '30d', 'month', '6mo', '12mo', 'year', 'all', 'realtime', 'bogus'),
    fc.tuple(fc.date({ noInvalidDate: true }), fc.date({ noInvalidDate: true })).map(([a, b]) => [a.toISOString().slice(0, 10), b.toISOString().slice(0, 10)]), anyJson),
  dimensions: fc.oneof(fc.array(dimension, { maxLength: 3 }), anyJson),
  filters: fc.oneof(fc.array(filterTree, { maxLength: 3 }), anyJson),
  order_by: fc.oneof(fc.array(fc.tuple(fc.oneof(fc.constantFrom(...METRICS, ...DIMENSIONS), anyJson), fc.constantFrom('asc', 'desc', 'up')), { maxLength: 2 }), anyJson),
  pagination: fc.oneof(fc.record({ limit: fc.oneof(fc.integer({ min: -5, max: 20000 }), anyJson), offset: fc.oneof(fc.integer({ min: -5, max: 100 }), anyJson) }), anyJson),
  include: fc.oneof(fc.record({ comparison: fc.constantFrom('previous_period', 'year_over_year', 'x'), total_rows: fc.boolean(), time_labels: fc.boolean() }, { requiredKeys: [] }), anyJson),
}, { requiredKeys: ['site_id', 'metrics'] });

export function fuzzStatsApi(t: Target, o: FuzzOptions): Promise<FuzzResult> {
  const slowest = { ms: 0 };
  return run('POST /api/v2/query', o, fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: query }, { weight: 1, arbitrary: anyJson }), async (q) => {
    const { r, body } = await timed(o.budgetMs, slowest, () => fetch(`${t.server.url}/api/v2/query`, {
      method: 'POST', body: JSON.stringify(q), headers: { Authorization: `Bearer ${t.apiKey}`, 'Content-Type': 'application/json' },
    }));
    if (r.status === 400) namesField(body, /^(unknown field|the request body)/);
    else if (![200, 403, 404].includes(r.status)) throw new Error(`status ${r.status}: ${body.slice(0, 200)}`);
  }), slowest);
}

export function fuzzDashboardUrl(t: Target, o: FuzzOptions): Promise<FuzzResult> {
  const slowest = { ms: 0 };
  const param = fc.oneof(
    fc.tuple(fc.constant('f'), fc.tuple(fc.constantFrom(...DIMENSIONS), hostileString).map(([d, v]) => `${d}:${v}`)),
    fc.tuple(fc.constantFrom('period', 'from', 'to', 'compare', 'f'), hostileString),
    fc.tuple(hostileString, hostileString),
  );
  return run('GET /sites/:domain (dashboard URL state)', o, fc.asyncProperty(fc.array(param, { maxLength: 8 }), fc.constantFrom('', '/settings', '/privacy'), async (ps, page) => {
    const q = new URLSearchParams();
    for (const [k, v] of ps) q.append(k, v);
    const { r } = await timed(o.budgetMs, slowest, () => fetch(`${t.server.url}/sites/example.com${page}?${q}`, { headers: { Cookie: t.cookie }, redirect: 'manual' }));
    if (![200, 303, 400, 404].includes(r.status)) throw new Error(`status ${r.status}`);
  }), slowest);
}

// ---------------------------------------------------------------------------------------------
// In-process targets: log line parsers, masks, glob and regex compilers, the scrubber.

const SAMPLES: Record<string, string> = {
  combined: '203.0.113.7 - - [10/Oct/2025:13:55:36 +0200] "GET /a/b?x=1 HTTP/1.1" 200 2326 "https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/121.0"',
  common: '203.0.113.7 - frank [10/Oct/2025:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
  'combined-vhost': 'example.com:443 203.0.113.7 - - [10/Oct/2025:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.4.0"',
  'common-vhost': 'example.com 203.0.113.7 - - [10/Oct/2025:13:55:36 +0000] "GET / HTTP/1.1" 200 5',
  nginx: '203.0.113.7 - - [10/Oct/2025:13:55:36 +0000] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0"',
  caddy: '{"level":"info","ts":1700000000.1,"request":{"remote_ip":"203.0.113.7","method":"GET","host":"example.com","uri":"/x","headers":{"User-Agent":["Mozilla/5.0"],"Referer":["https://a.b/"]}},"status":200,"size":12}',
  cloudfront: '2025-10-10\t13:55:36\tFRA56\t1024\t203.0.113.7\tGET\td1.cloudfront.net\t/x\t200\thttps://a.b/\tMozilla/5.0%20(X11)\t-\t-\tHit\tid\texample.com\thttps\t100\t0.001\t-\tTLSv1.3\tcipher\tHit\tHTTP/2.0',
};
const mutatedLine = (sample: string) => fc.tuple(fc.array(fc.tuple(fc.nat({ max: sample.length }), fc.nat({ max: 20 }), fc.oneof(hostileString, fc.constantFrom('"', '\\', '[', ']', ' ', '\t', '\\"'))), { maxLength: 6 }), fc.nat({ max: 300 }))
  .map(([edits, repeat]) => {
    let s = sample;
    for (const [at, del, ins] of edits) s = s.slice(0, at) + ins + s.slice(at + del);
    return repeat > 250 ? s.repeat(repeat - 250) : s;
  });

/**
 * Runs a synchronous call under the budget. Over budget, it runs twice more and the fastest run
 * counts: on a loaded machine (load average 7 on 2 cores while other work ran) a garbage
 * collection or a descheduled thread put 60–100 ms on calls that take 1 ms, while a
 * backtracking pattern stays slow every time.
 */
function within<T>(budgetMs: number, slowest: { ms: number }, fn: () => T): T {
  let best = Infinity, v!: T;
  for (let i = 0; i < 3 && best > budgetMs; i++) {
    const t0 = performance.now();
    v = fn();
    best = Math.min(best, performance.now() - t0);
  }
  slowest.ms = Math.max(slowest.ms, best);
  if (best > budgetMs) throw new Error(`took ${best.toFixed(0)} ms, three times (budget ${budgetMs})`);
  return v;
}

export function fuzzLogParsers(o: FuzzOptions): Promise<FuzzResult> {
  const slowest = { ms: 0 };
  const custom = customParser('$remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"', 'UTC');
  const formats = [...FORMATS];
  const arb = fc.oneof(...formats.map((f) => fc.tuple(fc.constant(f), fc.oneof(mutatedLine(SAMPLES[f]), hostileString))),
    fc.tuple(fc.constant('custom'), mutatedLine(SAMPLES.nginx)));
  return run('log line parsers and the line mask', o, fc.property(arb, ([format, line]) => {
    const parse = format === 'custom' ? custom : parserFor(format as (typeof FORMATS)[number], 'UTC');
    within(o.budgetMs, slowest, () => parse(line));
    const shown = within(o.budgetMs, slowest, () => maskLine(line));
    if (ipsIn(shown).some((ip) => !ip.endsWith('.0') && !ip.includes('::'))) throw new Error(`an address survived the mask: ${shown.slice(0, 120)}`);
  }), slowest);
}

export function fuzzMatchers(o: FuzzOptions): Promise<FuzzResult> {
  const slowest = { ms: 0 };
  const globChars = fc.string({ unit: fc.constantFrom('a', 'b', '*', '/', '.', '-', ','), maxLength: 40 });
  const pathArb = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', '/', '.', '!'), maxLength: 2000 }), hostileString);
  const regexArb = fc.oneof(hostileString, fc.string({ unit: fc.constantFrom('a', '(', ')', '+', '*', '?', '|', '^', '$', '\\', '[', ']', '{', '}', '1', ',', '.'), maxLength: 40 }));
  return run('glob and regex compilers', o, fc.property(globChars, regexArb, pathArb, (glob, re, p) => {
    const g = within(o.budgetMs, slowest, () => compileGlobs(glob));
    within(o.budgetMs, slowest, () => g?.test(p));
    let compiled;
    try {
      compiled = within(o.budgetMs, slowest, () => compileRegex(re));
    } catch (e) {
      if (!(e instanceof RegexError)) throw e;
      return;
    }
    within(o.budgetMs, slowest, () => compiled.test(p));
    within(o.budgetMs, slowest, () => scrub(p));
  }), slowest);
}
