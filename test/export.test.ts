// CSV exports and the report CLI: GET /api/v2/export (auth, k-anonymity, RFC 4180 quoting,
// formula-safe cells), `hush export` (a ZIP read back here by an independent reader),
// `hush goal` and `hush demo` against a real database file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { harness, tempDir, type Harness } from './helpers/harness.ts';
import { play } from './helpers/traffic.ts';
import { runCli } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';
import { csvLine } from '../src/reports/csv.ts';

/** Reads a ZIP through its central directory, checking each entry's CRC-32. */
function unzip(buf: Buffer): Map<string, string> {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'end of central directory');
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  const out = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    assert.is(buf.readUInt32LE(p), 0x02014b50);
    const csize = buf.readUInt32LE(p + 20), nameLen = buf.readUInt16LE(p + 28), local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const crc = buf.readUInt32LE(p + 16);
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = inflateRawSync(buf.subarray(dataAt, dataAt + csize));
    assert.is(crc32(data) >>> 0, crc, `CRC of ${name}`);
    out.set(name, data.toString('utf8'));
    p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return out;
}

/** RFC 4180 parsing, independent of the writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (q) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') q = false; else field += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; } else field += ch;
  }
  assert.is(field + row.join(''), '', 'the file ends with CRLF');
  return rows;
}

const csv = suite('export: CSV');

csv('RFC 4180 quoting and formula-safe text cells', () => {
  assert.is(csvLine(['plain', 3, null, 1.5]), 'plain,3,,1.5\r\n');
  assert.is(csvLine(['a,b', 'say "hi"', 'two\nlines']), '"a,b","say ""hi""","two\nlines"\r\n');
  assert.is(csvLine(['=HYPERLINK("x")', '+1', '-2', '@SUM(A1)', -3]), `"'=HYPERLINK(""x"")",'+1,'-2,'@SUM(A1),-3\r\n`);
  assert.equal(parseCsv(csvLine(['a,b', 'say "hi"'])), [['a,b', 'say "hi"']]);
});

csv.run();

let h: Harness;
let key: string;
const api = suite('export: GET /api/v2/export');
api.before(async () => {
  h = await harness({ HUSH_BATCH_MS: '0' }, Date.UTC(2026, 5, 1, 8));
  const site = h.core.sites.add({ domain: 'example.com', timezone: 'UTC', minVisitors: 2 });
  h.core.directory.refresh();
  key = h.core.apiKeys.create(site.id);
  const at = Date.UTC(2026, 5, 1, 9);
  await play(h, 'example.com', 'UTC', [
    { ip: '8.8.8.8', agent: 0, start: at, pages: [{ path: '/', after: 0 }], events: [{ at: 0, name: 'Sign "up", now' }] },
    { ip: '8.8.8.8', agent: 1, start: at, pages: [{ path: '/', after: 0 }], events: [{ at: 0, name: 'Sign "up", now' }] },
    { ip: '9.9.9.9', agent: 0, start: at, pages: [{ path: '/', after: 0 }], events: [{ at: 0, name: '=cmd|calc' }] },
    { ip: '9.9.9.9', agent: 1, start: at, pages: [{ path: '/', after: 0 }], events: [{ at: 0, name: '=cmd|calc' }] },
    { ip: '1.1.1.1', agent: 2, start: at, pages: [{ path: '/lonely', after: 0 }] },
  ]);
  h.clock.now = Date.UTC(2026, 5, 2, 12);
});
api.after(() => h.close());

const get = (qs: string, k: string | null = key) => h.core.app.request(`/api/v2/export?${qs}`, { headers: k ? { Authorization: `Bearer ${k}` } : {} });

api('a dimension as CSV: header, quoted cells, k folding, the same numbers as the query API', async () => {
  const r = await get('site_id=example.com&date_range=2026-06-01,2026-06-02&dimension=event:name');
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
  assert.match(r.headers.get('content-disposition') ?? '', /attachment; filename="example\.com-event_name\.csv"/);
  const rows = parseCsv(await r.text());
  assert.equal(rows[0], ['name', 'visitors', 'events']);
  const byName = Object.fromEntries(rows.slice(1).map((x) => [x[0], x.slice(1)]));
  assert.equal(byName, { pageview: ['5', '5'], 'Sign "up", now': ['2', '2'], "'=cmd|calc": ['2', '2'] });
  const pages = parseCsv(await (await get('site_id=example.com&date_range=2026-06-01,2026-06-01&dimension=event:page')).text());
  assert.equal(pages.slice(1).map((x) => [x[0], x[1]]), [['/', '4'], ['(other)', '1']], 'the page with one visitor folds');
  const q = await h.core.app.request('/api/v2/query', {
    method: 'POST', headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify({ site_id: 'example.com', metrics: ['visitors', 'visits', 'pageviews', 'time_on_page', 'bytes', 'load_time'], date_range: ['2026-06-01', '2026-06-01'], dimensions: ['event:page'] }),
  });
  const api = (await q.json()).results.map((x: { dimensions: string[]; metrics: Array<number | null> }) => [...x.dimensions, ...x.metrics.map((m) => (m === null ? '' : String(m)))]);
  assert.equal(pages.slice(1), api);
});

api('the default is visitors by day; bad parameters and keys are refused', async () => {
  const days = parseCsv(await (await get('site_id=example.com&date_range=7d')).text());
  assert.equal(days[0].slice(0, 3), ['date', 'visitors', 'visits']);
  assert.equal(days.slice(1).map((x) => x.slice(0, 2)), [['2026-06-01', '5']]);
  assert.is((await get('site_id=example.com', null)).status, 401);
  assert.is((await get('site_id=other.org')).status, 403);
  for (const qs of ['site_id=example.com&dimension=visit:nope', 'site_id=example.com&date_range=a,b,c', 'site_id=example.com&date_range=2026-13-01,2026-13-02']) {
    const r = await get(qs);
    assert.is(r.status, 400, qs);
    assert.ok((await r.json()).error, qs);
  }
});

api.run();

// ---------------------------------------------------------------------------------------------
// demo, goal list and export run as real processes; the refusals and goal changes run main() in
// this process (runCliInProcess: the same code without ~1.5 s of start-up each).
const cli = suite('export: hush demo, goal, export');

cli('demo fills demo.test; goals are listed; export writes every report into a ZIP', async () => {
  const { dir, cleanup } = tempDir();
  const env = { HUSH_DB: path.join(dir, 'hush.db') };
  try {
    const demo = await runCli(['demo', '--days', '7', '--visits', '60', '--timezone', 'America/New_York'], env);
    assert.is(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /Filled demo\.test with \d+ visits/);
    const again = await runCliInProcess(['demo'], env);
    assert.equal([again.code, /--reset/.test(again.stderr)], [1, true]);
    assert.is((await runCliInProcess(['demo', '--days', '0'], env)).code, 2);

    const goals = await runCli(['goal', 'list', '--site', 'demo.test'], env);
    assert.equal(goals.stdout.trim().split('\n'), ['Signup\tevent\tSignup', 'Visit /pricing\tpage\t/pricing']);
    assert.is((await runCliInProcess(['goal', 'add', '--site', 'demo.test', '--page', 'no-slash'], env)).code, 2);
    assert.is((await runCliInProcess(['goal', 'add', '--site', 'demo.test', '--event', 'Signup'], env)).code, 2, 'duplicate goal');
    assert.is((await runCliInProcess(['goal', 'add', '--site', 'demo.test', '--event', 'File Download', '--name', 'Downloads'], env)).code, 0);
    assert.is((await runCliInProcess(['goal', 'remove', '--site', 'demo.test', '--name', 'Nope'], env)).code, 1);

    const out = path.join(dir, 'demo.zip');
    const exp = await runCli(['export', '--site', 'demo.test', '--out', out], env);
    assert.is(exp.code, 0, exp.stderr);
    const files = unzip(readFileSync(out));
    assert.ok(files.size >= 20, [...files.keys()].join(', '));
    const visitors = parseCsv(files.get('visitors.csv')!);
    assert.equal(visitors[0], ['date', 'visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration', 'events', 'bytes']);
    assert.ok(visitors.length >= 7, 'a row per day');
    const conversions = parseCsv(files.get('conversions.csv')!);
    assert.equal(conversions.slice(1).map((r) => r[0]).sort(), ['Downloads', 'Signup', 'Visit /pricing']);
    const countries = parseCsv(files.get('countries.csv')!);
    assert.ok(countries.slice(1).every((r) => r[0] === '(other)' || Number(r[1]) >= 3), 'k = 3 holds in every file');
    assert.is((await runCliInProcess(['export', '--site', 'nope.example'], env)).code, 1);
    // A real process: export opens --out before it checks the dates, and that open, still pending
    // when the command returns, must not outlive this test's folder inside the test process.
    assert.is((await runCli(['export', '--site', 'demo.test', '--from', '2026-02-30', '--out', path.join(dir, 'x.zip')], env)).code, 2);
  } finally {
    cleanup();
  }
});

cli.run();
