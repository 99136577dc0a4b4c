// Issue 12's HTTP findings against the real Node server on a real port: every route has a body
// limit answered 413 before the body is read; slow clients are cut by header and request
// timeouts; nothing a visitor sends reaches a response header; nothing personal a visitor sends
// (an IP literal as page host, addresses and e-mails in paths, referrers, UTM tags and props) is
// stored, so a visitor cannot make `hush audit` fail or make Hush keep an address.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server/node-server.ts';
import { openDb } from '../src/store/db.ts';
import { SiteRepo } from '../src/store/sites.ts';
import { audit } from '../src/privacy/audit.ts';
import { scrub, PLACEHOLDER } from '../src/privacy/personal-data.ts';
import { tempDir, UA, EVENTS_WITH_VISITS } from './helpers/harness.ts';
import { startServerProcess, type ServerProcess } from './helpers/spawn-server.ts';

let server: RunningServer;
let tmp: ReturnType<typeof tempDir>;
let dbPath: string;

async function boot(env: Record<string, string> = {}): Promise<void> {
  tmp = tempDir();
  dbPath = path.join(tmp.dir, 'hush.db');
  const db = openDb(dbPath);
  new SiteRepo(db.db).add({ domain: 'example.com' });
  db.close();
  server = await startServer(loadConfig({ HUSH_DB: dbPath, PORT: '0', HOST: '127.0.0.1', ...env }), { log: () => {} });
}
async function shutdown(): Promise<void> {
  await server?.close();
  tmp?.cleanup();
}

/** Sends raw bytes on a fresh socket; resolves with everything received until the server closes (or `ms`). */
function raw(port: number, chunks: string[], ms = 5000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    const done = () => { clearTimeout(timer); sock.destroy(); resolve({ text, closedAfterMs: Date.now() - started }); };
    const timer = setTimeout(done, ms);
    sock.on('data', (d) => (text += d));
    sock.on('close', done);
    sock.on('error', done);
    sock.on('connect', () => { for (const c of chunks) sock.write(c); });
  });
}

// ---------------------------------------------------------------------------------------------
const limits = suite('every route has a body limit, answered before the body is read');
limits.before(() => boot());
limits.after(shutdown);

for (const [route, limit] of [['/login', 64 * 1024], ['/setup', 64 * 1024], ['/share/x/unlock', 64 * 1024], ['/sites/example.com/settings/goals', 64 * 1024],
  ['/account/totp/disable', 64 * 1024], ['/logout', 64 * 1024], ['/api/v2/query', 256 * 1024], ['/api/event', 8 * 1024]] as const) {
  limits(`${route}: a declared 150 MB body gets 413 at once, without sending it`, async () => {
    const r = await raw(server.port, [`POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 157286400\r\n\r\n`], 3000);
    assert.match(r.text, /^HTTP\/1\.1 413/, `${route}: ${r.text.slice(0, 80)}`);
    assert.ok(r.closedAfterMs < 2000, `answered in ${r.closedAfterMs} ms`);
  });
  limits(`${route}: a chunked body is cut off just past ${limit} bytes`, async () => {
    const chunk = 'a'.repeat(16 * 1024);
    const parts = [`POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`];
    for (let sent = 0; sent <= limit + chunk.length; sent += chunk.length) parts.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const r = await raw(server.port, parts, 3000);
    assert.match(r.text, /^HTTP\/1\.1 413/, `${route}: ${r.text.slice(0, 80)}`);
  });
}

limits('a body within the limit still works (a form post, a Stats API query)', async () => {
  const login = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ email: 'a@b.c', password: 'x'.repeat(60 * 1024) }), redirect: 'manual' });
  assert.ok(login.status !== 413 && login.status < 500, String(login.status));
  const q = await fetch(`${server.url}/api/v2/query`, { method: 'POST', body: JSON.stringify({ site_id: 'example.com', pad: 'x'.repeat(200 * 1024) }) });
  assert.is(q.status, 401, 'reaches the key check');
});

limits.run();

// ---------------------------------------------------------------------------------------------
const memory = suite('oversized bodies do not grow the server');
let proc: ServerProcess | null = null;
memory.after(() => { proc?.child.kill('SIGKILL'); });

/** Resident memory of a process in MiB, from /proc (Linux). */
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

memory('40 parallel 4 MiB form posts to /login: every one 413, the server grows by less than 40 MiB (was +700 MiB for one 150 MB post)', async () => {
  const t = tempDir();
  try {
    proc = await startServerProcess({ HUSH_DB: path.join(t.dir, 'hush.db') });
    await fetch(`${proc.url}/login`);
    const before = rssOf(proc.child.pid!);
    const body = 'a'.repeat(4 * 1024 * 1024);
    const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(`${proc!.url}/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body,
    }).then((r) => r.status, () => 'reset')));
    assert.ok(answers.every((s) => s === 413 || s === 'reset'), answers.join(','));
    assert.ok(answers.includes(413), answers.join(','));
    const grown = rssOf(proc.child.pid!) - before;
    assert.ok(grown < 40, `server RSS grew by ${grown.toFixed(0)} MiB`);
  } finally {
    proc?.child.kill('SIGKILL');
    await proc?.exited;
    proc = null;
    t.cleanup();
  }
});

memory.run();

// ---------------------------------------------------------------------------------------------
const slow = suite('slow clients are cut off');
slow.before(() => boot({ HUSH_REQUEST_TIMEOUT_MS: '1500' }));
slow.after(shutdown);

slow('a body that never finishes is answered 408 and closed within the request timeout, and nothing is logged as an error', async () => {
  const logged: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => { logged.push(a.join(' ')); };
  try {
    const r = await raw(server.port, ['POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=a'], 8000);
    assert.ok(r.closedAfterMs >= 1000 && r.closedAfterMs < 4500, `closed after ${r.closedAfterMs} ms`);
    assert.match(r.text, /^HTTP\/1\.1 408/);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(logged, []);
  } finally {
    console.error = original;
  }
});

slow('a beacon body that never finishes is cut off as well', async () => {
  const r = await raw(server.port, ['POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=a'], 8000);
  assert.ok(r.closedAfterMs >= 1000 && r.closedAfterMs < 4500, `closed after ${r.closedAfterMs} ms`);
  assert.not.match(r.text, /^HTTP\/1\.1 5/);
});

slow('headers that never finish are cut off too', async () => {
  const r = await raw(server.port, ['POST /api/event HTTP/1.1\r\nHost: x\r\nX-Slow: '], 8000);
  assert.ok(r.closedAfterMs < 4500, `closed after ${r.closedAfterMs} ms`);
});

slow('the default is 30 s, not Node\'s 300 s, and the setting is validated', () => {
  assert.is(loadConfig({}).requestTimeoutMs, 30_000);
  assert.throws(() => loadConfig({ HUSH_REQUEST_TIMEOUT_MS: '5' }), /HUSH_REQUEST_TIMEOUT_MS/);
});

slow.run();

// ---------------------------------------------------------------------------------------------
const headers = suite('visitor input never reaches a response header');
headers.before(() => boot());
headers.after(shutdown);

headers('a props key with CR/LF or a non-Latin-1 character on the pixel: 400, not 500, and the header names only the field', async () => {
  for (const key of ['a\r\nSet-Cookie: x=1', 'ключ', 'a\u2028b', '\u0000']) {
    const q = new URLSearchParams({ d: 'example.com', u: 'https://example.com/', p: JSON.stringify({ [key]: { nested: 1 } }) });
    const r = await fetch(`${server.url}/api/event.gif?${q}`, { headers: { 'User-Agent': UA.firefox } });
    assert.is(r.status, 400, JSON.stringify(key));
    assert.is(r.headers.get('x-hush-error'), 'invalid "props"');
    assert.is(r.headers.get('set-cookie'), null);
    assert.is(r.headers.get('content-type'), 'image/gif');
  }
});

headers('the pixel names the field for every invalid parameter', async () => {
  const r = await fetch(`${server.url}/api/event.gif?d=example.com&u=notaurl`, { headers: { 'User-Agent': UA.firefox } });
  assert.is(r.status, 400);
  assert.is(r.headers.get('x-hush-error'), 'invalid "url"');
  const s = await fetch(`${server.url}/api/event.gif?d=example.com&u=https://example.com/&sw=abc`, { headers: { 'User-Agent': UA.firefox } });
  assert.is(s.headers.get('x-hush-error'), 'invalid "screen_width"');
});

headers.run();

// ---------------------------------------------------------------------------------------------
const personal = suite('nothing personal a visitor sends is stored');
personal.before(() => boot());
personal.after(shutdown);

personal('scrub: addresses and e-mails become placeholders, user-agents go whole, ordinary text is untouched', () => {
  assert.is(scrub('/x/203.0.113.99/y'), `/x/${PLACEHOLDER.ip}/y`);
  assert.is(scrub('/u/2001:db8:abcd:12::1'), `/u/${PLACEHOLDER.ip}`);
  assert.is(scrub('/m/::ffff:198.51.100.23/z'), `/m/${PLACEHOLDER.ip}/z`);
  assert.is(scrub('/unsubscribe/jane.doe@example.com'), `/unsubscribe/${PLACEHOLDER.email}`);
  assert.is(scrub('Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/121.0'), PLACEHOLDER.userAgent);
  for (const ok of ['/', '/blog/2026/11/29/post', '/v1.2.3/docs', '/time/10:05:03', '/a::b', 'spring sale', '/999.999.999.999']) assert.is(scrub(ok), ok);
});

personal('a page on an IP literal, addresses and e-mails in path, referrer, UTM and props: stored as placeholders; the audit passes', async () => {
  const hits = [
    { n: 'pageview', u: 'https://203.0.113.99/x', d: 'example.com' },
    { n: 'pageview', u: 'https://[2001:db8::7]/y', d: 'example.com' },
    { n: 'pageview', u: 'https://example.com/users/jane@example.org/198.51.100.4?utm_source=203.0.113.5&utm_campaign=x@y.com', d: 'example.com', r: 'http://192.0.2.44/admin/2001:db8:1::9' },
    { n: 'Signup', u: 'https://example.com/', d: 'example.com', p: { ip: '203.0.113.77', 'from 198.51.100.9': 'x', agent: UA.chromeMac } },
  ];
  // One visitor each (a visit keeps the acquisition of its first hit).
  const agents = [UA.firefox, UA.iphone, UA.chromeMac, UA.firefox.replace('121', '120')];
  for (const [i, h] of hits.entries()) {
    const r = await fetch(`${server.url}/api/event`, { method: 'POST', body: JSON.stringify(h), headers: { 'User-Agent': agents[i], 'Content-Type': 'text/plain' } });
    assert.is(r.status, 202);
  }
  const db = openDb(dbPath);
  const rows = db.sqlite.prepare(`SELECT hostname, pathname, referrer, source, utm_source, utm_campaign, props FROM ${EVENTS_WITH_VISITS} ORDER BY id`).all() as Array<Record<string, string>>;
  db.close();
  assert.is(rows.length, 4, JSON.stringify(rows));
  assert.is(rows[0].hostname, PLACEHOLDER.ip, JSON.stringify(rows));
  assert.is(rows[1].hostname, PLACEHOLDER.ip, JSON.stringify(rows));
  assert.is(rows[2].pathname, `/users/${PLACEHOLDER.email}/${PLACEHOLDER.ip}`);
  assert.is(rows[2].utm_source, PLACEHOLDER.ip);
  assert.is(rows[2].utm_campaign, PLACEHOLDER.email);
  assert.is(rows[2].source, PLACEHOLDER.ip);
  assert.ok(!JSON.stringify(rows).match(/\d+\.\d+\.\d+\.\d+|2001:db8|@example|Mozilla/), JSON.stringify(rows));
  assert.equal(JSON.parse(rows[3].props), { ip: PLACEHOLDER.ip, [`from ${PLACEHOLDER.ip}`]: 'x', agent: PLACEHOLDER.userAgent });
  await server.close();
  const report = audit(dbPath, {});
  assert.ok(report.clean, JSON.stringify(report.findings));
});

personal.run();
