// The real server process on a real port: the lean /api/event path, durability of acknowledged
// hits across kill -9, a clean SIGTERM, and the privacy invariants checked on the bytes: after
// the 10,000 real access-log lines (real IPs and UAs) plus random IPv6 clients went through
// it, no address in any textual form and no full user-agent is in the database file, its WAL,
// or anything the server logged.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import ipaddr from 'ipaddr.js';
import { startServerProcess, killChildren, type ServerProcess } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';
import { tempDir, UA } from './helpers/harness.ts';
import { apacheLog } from './helpers/fixtures.ts';

// Sites and keys are made by the CLI's code in this process (test/cli.test.ts runs it as a
// process): what runs as a real process here is the server.
async function setupSite(dbPath: string, domain = 'example.com'): Promise<void> {
  const r = await runCliInProcess(['site', 'add', domain], { HUSH_DB: dbPath });
  assert.is(r.code, 0, r.stderr);
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/event`, {
    method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'text/plain', 'User-Agent': UA.firefox, ...headers },
  });
}

function count(dbPath: string, sql = 'SELECT count(*) AS n FROM events'): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/**
 * POST /api/event through node:http on kept-alive sockets: the same request as post() (fetch),
 * for the 10,500 hits of the privacy test, at a fraction of fetch's CPU.
 */
function postRaw(agent: http.Agent, url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; dropped?: string }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/event`, {
      method: 'POST', agent, headers: { 'Content-Type': 'text/plain', 'User-Agent': UA.firefox, 'Content-Length': data.length, ...headers },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, dropped: res.headers['x-hush-dropped'] as string | undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

const pv = (p = '/') => ({ n: 'pageview', u: `https://example.com${p}`, d: 'example.com' });

// ---------------------------------------------------------------------------------------------
// One server for this suite and the next (reports), each on a site of its own: HUSH_ROLLUP_MS is
// the reports test's; the lean path does not depend on it.
const lean = suite('server: the lean /api/event path answers like the Hono route');
let srv: ServerProcess, dir: string, cleanup: () => void, dbPath: string, statsKey: string;
lean.before(async () => {
  ({ dir, cleanup } = tempDir());
  dbPath = path.join(dir, 'hush.db');
  await setupSite(dbPath);
  await setupSite(dbPath, 'rollups.example');
  const keyOut = await runCliInProcess(['key', 'add', '--site', 'rollups.example'], { HUSH_DB: dbPath });
  assert.is(keyOut.code, 0, keyOut.stderr);
  statsKey = keyOut.stdout.trim().split('\n').pop()!;
  // 2 s between rollup rounds: see the reports test.
  srv = await startServerProcess({ HUSH_DB: dbPath, HUSH_ROLLUP_MS: '2000' });
});

lean('202, 202 dropped, 400 and 413, with CORS', async () => {
  const ok = await post(srv.url, pv());
  assert.is(ok.status, 202);
  assert.is(ok.headers.get('access-control-allow-origin'), '*');
  assert.is(await ok.text(), '');
  const bot = await post(srv.url, pv(), { 'User-Agent': UA.googlebot });
  assert.equal([bot.status, bot.headers.get('x-hush-dropped')], [202, 'bot']);
  const bad = await post(srv.url, '{"n":');
  assert.is(bad.status, 400);
  assert.match((await bad.json()).error, /not valid JSON/);
  const big = await post(srv.url, 'x'.repeat(9000));
  assert.is(big.status, 413);
  const pre = await fetch(`${srv.url}/api/event`, { method: 'OPTIONS' });
  assert.equal([pre.status, pre.headers.get('access-control-allow-methods')], [204, 'POST, GET, OPTIONS']);
  const health = await fetch(`${srv.url}/healthz`);
  assert.is(health.status, 200);
  assert.is(count(dbPath), 1);
});

lean('a body streamed without Content-Length over the limit is refused', async () => {
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('x'.repeat(1000)));
      c.close();
    },
  });
  const r = await fetch(`${srv.url}/api/event`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
  assert.is(r.status, 413);
});

lean.run();

// ---------------------------------------------------------------------------------------------
const reports = suite('server: reports run in their own thread, rollups refresh within seconds');
reports.after(async () => {
  await srv?.stop();
  cleanup();
});

reports('hits posted to the server show in the Stats API, first raw, then from rollups', async () => {
  // The lean suite's server and file, on its own site (rollups.example): lean posts to example.com.
  const server = srv, key = statsKey;
  // 2 s between rollup rounds: a round that falls between two of the five posts builds the day
  // from three hits, and a built day is read from its rollup until the next round (the planner
  // reads built days from rollups even when dirty: reports may lag by HUSH_ROLLUP_MS). Under a
  // loaded machine 300 ms made this flaky (3 instead of 5). lean.before starts the server so.
  const ask = async (body: unknown) => {
    const r = await fetch(`${server.url}/api/v2/query`, { method: 'POST', body: JSON.stringify(body), headers: { Authorization: `Bearer ${key}` } });
    return { status: r.status, json: await r.json() as { results: Array<{ metrics: number[] }>; meta: { source: string }; error?: string } };
  };
  const hit = (p: string) => ({ n: 'pageview', u: `https://rollups.example${p}`, d: 'rollups.example' });
  for (let i = 0; i < 5; i++) assert.is((await post(server.url, hit(`/p${i}`), { 'User-Agent': `${UA.firefox} n${i}` })).status, 202);
  const body = { site_id: 'rollups.example', metrics: ['pageviews'], date_range: 'day' };
  let r = await ask(body);
  assert.is(r.json.results[0].metrics[0], 5);
  for (let i = 0; i < 100 && r.json.meta.source !== 'rollups'; i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = await ask(body);
  }
  assert.equal([r.json.results[0].metrics[0], r.json.meta.source], [5, 'rollups']);
  // Filtered: read by the thread from day segments, k-anonymity as ever (k = 3).
  const all = await ask({ ...body, filters: [['contains', 'event:page', ['/p']]] });
  assert.equal([all.json.results[0].metrics[0], all.json.meta.source], [5, 'raw+rollups']);
  const two = await ask({ ...body, filters: [['is', 'event:page', ['/p0', '/p1']]] });
  assert.equal(two.json.results[0].metrics, [null], 'three visitors left out, two in: suppressed');
  const bad = await ask({ ...body, metrics: ['nope'] });
  assert.is(bad.status, 400);
  assert.match(bad.json.error ?? '', /"metrics"/);
});

reports.run();


// ---------------------------------------------------------------------------------------------
const durable = suite('server: durability');
durable.before.each(() => {
  if (restarted) return; // the SIGTERM test takes over the kill -9 test's file and server
  ({ dir, cleanup } = tempDir());
  dbPath = path.join(dir, 'hush.db');
});
durable.after.each(async () => {
  if (restarted) return;
  await killChildren(); // a server a failed test left running
  cleanup();
});

// The server restarted after kill -9 is left running for the SIGTERM test (one start fewer);
// that test starts its own when the first failed before restarting it.
let restarted: ServerProcess | undefined;

durable('every acknowledged hit survives kill -9', async () => {
  restarted = undefined;
  await setupSite(dbPath);
  const s = await startServerProcess({ HUSH_DB: dbPath });
  const N = 300;
  const answers = await Promise.all(Array.from({ length: N }, (_, i) => post(s.url, pv(`/p${i}`))));
  assert.ok(answers.every((r) => r.status === 202));
  s.child.kill('SIGKILL');
  assert.is(await s.exited, 'SIGKILL');
  assert.is(count(dbPath), N);
  // and the server starts again on the same file, recovering the WAL
  const again = await startServerProcess({ HUSH_DB: dbPath });
  assert.is((await post(again.url, pv('/after'))).status, 202);
  assert.is(count(dbPath), N + 1);
  restarted = again;
});

durable('SIGTERM lets in-flight hits commit and exits 0', async () => {
  let s: ServerProcess;
  if (restarted) s = restarted;
  else {
    await setupSite(dbPath);
    s = await startServerProcess({ HUSH_DB: dbPath });
  }
  restarted = undefined;
  const before = count(dbPath);
  const inflight = Array.from({ length: 50 }, (_, i) => post(s.url, pv(`/q${i}`)).then((r) => r.status, () => 0));
  await new Promise((r) => setTimeout(r, 5));
  s.child.kill('SIGTERM');
  const statuses = await Promise.all(inflight);
  assert.is(await s.exited, 0);
  const acked = statuses.filter((st) => st === 202).length;
  assert.ok(count(dbPath) - before >= acked, 'no acknowledged hit is lost');
  await s.waitFor(/SIGTERM: flushing and closing/);
});

durable('npm start defaults: creates the database folder and file on first run', async () => {
  const nested = path.join(dir, 'deep', 'er', 'hush.db');
  const s = await startServerProcess({ HUSH_DB: nested });
  assert.ok(existsSync(nested));
  await s.waitFor(/<script defer data-domain="example\.com" src="http:\/\/[^"]+\/hush\.js"><\/script>/);
  await s.stop();
});

durable.run();

// ---------------------------------------------------------------------------------------------
const privacy = suite('server: privacy invariants on the bytes');
privacy.after.each(async () => {
  await killChildren(); // whatever throws between the server's start and its kill, it dies
  cleanup();
});

interface LogLine { ip: string; ua: string; path: string; referrer: string }
function readLog(): LogLine[] {
  const re = /^(\S+) \S+ \S+ \[[^\]]+\] "(?:GET|POST|HEAD) (\S+)[^"]*" \d+ \S+ "([^"]*)" "([^"]*)"/;
  const out: LogLine[] = [];
  for (const line of apacheLog().split('\n')) {
    const m = re.exec(line);
    if (m) out.push({ ip: m[1], path: m[2], referrer: m[3] === '-' ? '' : m[3], ua: m[4] });
  }
  return out;
}

/** Every textual form an address might take in a file or a log. */
function forms(ip: string): string[] {
  const a = ipaddr.parse(ip);
  if (a.kind() === 'ipv4') return [ip, `::ffff:${ip}`];
  const v6 = a as ipaddr.IPv6;
  return [v6.toString(), v6.toNormalizedString(), v6.parts.map((p) => p.toString(16).padStart(4, '0')).join(':')];
}

privacy('no raw IP (v4, v6, mapped) nor full user-agent in the DB file, its WAL or the logs', async () => {
  ({ dir, cleanup } = tempDir());
  dbPath = path.join(dir, 'hush.db');
  await setupSite(dbPath);
  const lines = readLog();
  const s = await startServerProcess({ HUSH_DB: dbPath, HUSH_TRUSTED_PROXIES: '127.0.0.1/32' });
  const v6 = Array.from({ length: 500 }, () => {
    const b = randomBytes(16);
    b[0] = 0x2a; b[1] = 0x00 + (b[1] & 0x0f); // global unicast 2a0x::
    return ipaddr.fromByteArray([...b]).toString();
  });
  const clients = [
    ...lines.map((l) => ({ ...l, ip: l.ip })),
    ...v6.map((ip, i) => ({ ip, ua: `${UA.chromeMac} Hush/${i}`, path: `/v6/${i % 7}`, referrer: '' })),
  ];
  let accepted = 0;
  const agent = new http.Agent({ keepAlive: true });
  for (let i = 0; i < clients.length; i += 50) {
    const batch = clients.slice(i, i + 50).map((c) => postRaw(agent, s.url, { n: 'pageview', u: `https://example.com${c.path}`, d: 'example.com', r: c.referrer }, {
      'User-Agent': c.ua, 'X-Forwarded-For': `${c.ip}, 127.0.0.1`,
    }).then((r) => {
      if (r.status === 202 && !r.dropped) accepted++;
      assert.ok(r.status === 202 || r.status === 400, `unexpected ${r.status}`);
    }));
    await Promise.all(batch);
  }
  agent.destroy();
  // a query string outside the campaign allow-list, and a request that errors, must not reach the logs
  await post(s.url, { n: 'pageview', u: 'https://example.com/account?session_token=HUSHQS123&utm_source=x', d: 'example.com' });
  await post(s.url, '{"n":"pageview","u":"https://example.com/?secret=HUSHQS456","d":');
  await s.stop();
  assert.not.ok(s.output().includes('HUSHQS'), 'no query string or request body in the logs');
  assert.ok(accepted > 5000, `most hits are stored (${accepted})`);

  const bytes = Buffer.concat([dbPath, `${dbPath}-wal`].filter(existsSync).map((f) => readFileSync(f)));
  const text = bytes.toString('latin1');
  assert.not.ok(text.includes('HUSHQS123'), 'query strings are not stored');
  const logs = s.output();
  const ips = new Set(clients.map((c) => c.ip));
  let checkedIps = 0;
  for (const ip of ips) {
    // x.y.z.0 is its own /24 prefix's text: the prefix is what is meant to be stored.
    if (ip.endsWith('.0')) continue;
    for (const f of forms(ip)) {
      assert.not.ok(text.includes(f), `IP ${f} found in the database`);
      assert.not.ok(logs.includes(f), `IP ${f} found in the logs`);
    }
    checkedIps++;
  }
  assert.ok(checkedIps > 2000, `checked ${checkedIps} distinct addresses`);
  const uas = new Set(clients.map((c) => c.ua).filter((u) => u.length > 20));
  for (const ua of uas) {
    assert.not.ok(text.includes(ua), `UA found in the database: ${ua.slice(0, 60)}`);
    assert.not.ok(logs.includes(ua), 'UA found in the logs');
  }
  // the hashes are 64-bit integers, the prefixes truncated: spot-check what is stored
  const db = new Database(dbPath, { readonly: true });
  const cols = db.prepare("SELECT name FROM pragma_table_info('events')").all().map((r) => (r as { name: string }).name);
  db.close();
  assert.not.ok(cols.some((c) => /ip|user_agent|^ua$/.test(c)), `no IP or UA column: ${cols.join(',')}`);
});

privacy.run();
