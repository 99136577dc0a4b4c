// hush audit: a clean database passes; each kind of planted breach fails it and names where.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { harness, UA, type Harness } from './helpers/harness.ts';
import { audit } from '../src/privacy/audit.ts';
import { runCli } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';

let h: Harness;
const a = suite('audit');
a.before.each(async () => {
  h = await harness({}, Date.now());
  h.core.sites.add({ domain: 'example.com' });
  h.core.directory.refresh();
  // ordinary traffic through the real pipeline: what a clean database looks like
  for (const [ip, ua] of [['203.0.113.9', UA.firefox], ['2001:db8:1:2::3', UA.iphone], ['::ffff:198.51.100.4', UA.chromeMac]]) {
    const r = await h.post({ n: 'pageview', u: 'https://example.com/a?utm_source=news', d: 'example.com', r: 'https://www.google.com/', p: { plan: 'pro' } }, { ip, ua });
    assert.is(r.status, 202);
  }
  h.core.apiKeys.create(h.core.sites.byDomain('example.com')!.id);
});
a.after.each(() => h.close());

const sql = (q: string, ...args: unknown[]) => h.core.store.sqlite.prepare(q).run(...args);
let planted = 1_000_000;
function plantEvent(col: string, value: unknown): void {
  const row: Record<string, unknown> = { id: ++planted, site_id: 1, ts: Date.now(), visit_id: 0, name_id: 1, host_id: 1, page_id: 1, [col]: value };
  const cols = Object.keys(row);
  sql(`INSERT INTO events (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, ...Object.values(row));
}
/** Text of events and visits lives in the strings table (rows refer to it by id). */
function plantString(value: string): void {
  sql('INSERT INTO strings (site_id, value) VALUES (1, ?)', value);
}

a('a clean database passes, including the raw file bytes', () => {
  const r = audit(h.dbPath, { ips: ['203.0.113.9', '2001:db8:1:2::3', '198.51.100.4'] });
  assert.equal(r.findings, []);
  assert.ok(r.clean);
  assert.is(r.checks.length, 6);
});

const plants: Array<[string, () => void, string, RegExp]> = [
  ['a raw IPv4 in a page path', () => plantString('/from/203.0.113.77'), 'ip', /^strings\.value$/],
  ['an IPv6 in props', () => plantEvent('props', '{"client":"2001:db8:abcd:12::1"}'), 'ip', /^events\.props$/],
  ['an IPv4-mapped IPv6', () => plantString('::ffff:198.51.100.23'), 'ip', /^strings\.value$/],
  ['a full user-agent', () => plantString(UA.firefox), 'user-agent', /^strings\.value$/],
  ['text planted in an id column', () => plantEvent('page_id', '/x/203.0.113.5'), 'ip', /^events\.page_id$/],
  ['an e-mail address', () => plantEvent('props', '{"email":"jane.doe@example.org"}'), 'email', /^events\.props$/],
  ['an old daily key', () => sql("INSERT INTO daily_keys (day, key, created_at) VALUES ('2020-01-01', randomblob(32), 0)"), 'key-age', /^daily_keys \(2020-01-01\)$/],
  ['an event past retention', () => undefined, 'retention', /^events \(example\.com\)$/],
  ['a k below the floor', () => sql("UPDATE sites SET min_visitors = 1"), 'k-floor', /^sites\.min_visitors/],
  ['an undeclared column', () => sql('ALTER TABLE events ADD COLUMN fingerprint TEXT'), 'schema', /^events\.fingerprint$/],
  ['an undeclared table', () => sql('CREATE TABLE visitors_raw (ip TEXT)'), 'schema', /^visitors_raw$/],
];
for (const [label, plant, check, where] of plants) {
  a(`finds ${label}`, () => {
    if (check === 'retention') {
      sql('UPDATE sites SET retention_days = 1');
      sql('INSERT INTO events (id, site_id, ts, visit_id, name_id, host_id, page_id) VALUES (999999, 1, ?, 0, 1, 1, 1)', Date.now() - 5 * 86_400_000);
    } else plant();
    const r = audit(h.dbPath);
    assert.not.ok(r.clean, label);
    const f = r.findings.find((x) => x.check === check && where.test(x.where));
    assert.ok(f, `${label}: ${JSON.stringify(r.findings)}`);
    // the report never repeats the planted value in full
    assert.not.ok(JSON.stringify(r).includes('203.0.113.77'));
    assert.not.ok(JSON.stringify(r).includes('jane.doe@'));
  });
}

a('--ips finds given addresses as a 32-bit integer and as a hex blob', () => {
  const n = (198 << 24 >>> 0) + (51 << 16) + (100 << 8) + 99; // 198.51.100.99
  plantEvent('bytes', n);
  let r = audit(h.dbPath, { ips: ['198.51.100.99'] });
  assert.ok(r.findings.some((f) => f.check === 'given-ip' && f.where === 'events.bytes' && /32-bit integer/.test(f.detail)), JSON.stringify(r.findings));
  sql('INSERT INTO daily_keys (day, key, created_at) VALUES (?, ?, 0)', new Date().toISOString().slice(0, 10).replace(/\d$/, (d) => d) + 'x', Buffer.from([0, 1, 198, 51, 100, 99, 7]));
  r = audit(h.dbPath, { ips: ['198.51.100.99'] });
  assert.ok(r.findings.some((f) => f.check === 'given-ip' && f.where === 'daily_keys.key' && /raw bytes/.test(f.detail)), JSON.stringify(r.findings));
});

a('binary runs that look like "0:0::" are not reported as addresses; a real one still is', () => {
  sql('INSERT INTO daily_keys (day, key, created_at) VALUES (?, ?, 0)', 'zz-binary', Buffer.from('\x01\x020:0::\x00\x30\x3a\x30\x3a\x3a\x07', 'latin1'));
  let r = audit(h.dbPath);
  assert.not.ok(r.findings.some((f) => f.check === 'ip'), JSON.stringify(r.findings));
  plantString('/x/2a02:26f0:1::7');
  r = audit(h.dbPath);
  assert.ok(r.findings.some((f) => f.check === 'ip' && f.where === 'strings.value'), JSON.stringify(r.findings));
});

a('deleted rows that linger in the file are found in its raw bytes', () => {
  plantString('/leak/203.0.113.88');
  sql("DELETE FROM strings WHERE value LIKE '/leak/%'");
  const r = audit(h.dbPath);
  assert.ok(r.findings.some((f) => f.check === 'ip' && /database file|WAL/.test(f.where)), JSON.stringify(r.findings));
  assert.not.ok(r.findings.some((f) => f.where === 'strings.value'));
});

a.run();

const cli = suite('audit: cli');
cli('exit 0 when clean, 1 with findings; --json; bad --ips', async () => {
  const hh = await harness({}, Date.now());
  hh.core.sites.add({ domain: 'example.com' });
  const env = { HUSH_DB: hh.dbPath };
  const clean = await runCli(['audit'], env);
  assert.is(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /PASS  schema matches the data inventory/);
  hh.core.store.sqlite.prepare("UPDATE sites SET min_visitors = 1").run();
  // the rest in this process: the real process above is the command as run (runCliInProcess)
  const dirty = await runCliInProcess(['audit', '--json'], env);
  assert.is(dirty.code, 1);
  const report = JSON.parse(dirty.stdout);
  assert.is(report.clean, false);
  assert.is(report.findings[0].check, 'k-floor');
  const ipsFile = path.join(hh.dir, 'ips.txt');
  writeFileSync(ipsFile, '1.2.3.4\nnot-an-ip\n');
  const bad = await runCliInProcess(['audit', '--ips', ipsFile], env);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /"not-an-ip" is not an IP address/);
  await hh.close();
});
cli.run();
