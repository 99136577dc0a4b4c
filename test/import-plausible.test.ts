// `hush import-plausible`: a ZIP built the way Plausible builds its export (lib/plausible/exports.ex:
// ClickHouse CSVWithNames files, stored by Zstream with data descriptors) is imported, and every
// number the Stats API and the dashboard give for its days is checked against the CSVs; native
// data wins from the first native day on; bad archives and bad files fail with a clear error and
// write nothing; --remove takes exactly the import away.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { harness, type Harness } from './helpers/harness.ts';
import { runCli, startServerProcess, killChildren } from './helpers/spawn-server.ts';
import { main } from '../src/cli/main.ts';
import { ZipWriter } from '../src/reports/zip.ts';
import { ZipReader, ZipError } from '../src/import/zip-reader.ts';
import { audit } from '../src/privacy/audit.ts';
import { enforceRetention } from '../src/privacy/retention.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const START = Date.UTC(2026, 5, 10, 9, 0); // first native hit: 2026-06-10
const DAYS = 12; // the export: 2026-06-01 … 2026-06-12 (its last three days overlap native data)
const date = (d: number) => `2026-06-${String(d + 1).padStart(2, '0')}`;
const IMPORTED = 9; // days shown from the import: 06-01 … 06-09

// ---- The export, as Plausible writes it ----

type Row = Array<string | number>;
const q = (v: string | number) => (typeof v === 'number' ? String(v) : `"${v.replace(/"/g, '""')}"`);
const csv = (header: string[], rows: Row[]) => [header.map(q).join(','), ...rows.map((r) => r.map(q).join(','))].join('\n') + '\n';

interface Day { visitors: number; visits: number; pageviews: number; bounces: number; duration: number }
const visitorsOf = (d: number): Day => ({ visitors: 20 + d, visits: 25 + d, pageviews: 60 + 2 * d, bounces: 10, duration: 3000 + 10 * d });

function exportFiles(days = DAYS, first = 0): Record<string, string> {
  const V: Row[] = [], S: Row[] = [], P: Row[] = [], EN: Row[] = [], EX: Row[] = [], CE: Row[] = [], L: Row[] = [], DV: Row[] = [], B: Row[] = [], O: Row[] = [];
  for (let d = first; d < first + days; d++) {
    const t = date(d), v = visitorsOf(d);
    V.push([t, v.visitors, v.pageviews, v.bounces, v.visits, v.duration]);
    // sources: date,source,referrer,utm_*,pageviews,visitors,visits,visit_duration,bounces
    S.push([t, 'Google', 'google.com', '', '', '', '', '', 30, 10, 12, 1000, 5]);
    S.push([t, 'Newsletter', '', 'newsletter', 'email', 'spring, 2026', '', '', 20, 8 + d, 10 + d, 1500, 3]);
    S.push([t, '', '', '', '', '', '', '', 10, 2, 3, 500, 2]);
    if (d === 2) S.push([t, 'Tiny', 'tiny.example/post', '', '', '', '', '', 1, 1, 1, 0, 1]);
    // pages: date,hostname,page,visits,visitors,pageviews,scroll…,time on page
    P.push([t, 'example.com', '/', 20, 18, 40, 0, 0, 600, 15]);
    P.push([t, 'example.com', '/pricing', 8, 7, 20, 0, 0, 300, 6]);
    if (d === 1) P.push([t, 'example.com', '/u/jane@example.org', 1, 1, 1, 0, 0, 0, 0]);
    EN.push([t, '/', 15, 17, 2000, 8, 40]);
    EX.push([t, '/pricing', 9, 1200, 11, 4, 25]);
    CE.push([t, 'Signup', '', '', 3, 4]);
    CE.push([t, 'engagement', '', '', 20, 50]);
    CE.push([t, 'Outbound Link: Click', 'https://elsewhere.example/', '', 4, 5]);
    L.push([t, 'DE', 'DE-BE', 2950159, 12, 14, 1500, 6, 30]);
    L.push([t, 'FI', '', 0, v.visitors - 12, v.visits - 14, v.duration - 1500, v.bounces - 6, v.pageviews - 30]);
    DV.push([t, 'Desktop', 6, 7, 1000, 3, 20]);
    DV.push([t, 'Laptop', 4, 5, 500, 2, 10]);
    DV.push([t, 'Mobile', v.visitors - 10, v.visits - 12, v.duration - 1500, v.bounces - 5, v.pageviews - 30]);
    B.push([t, 'Chrome', '120.0', 15, 18, 2000, 7, 40]);
    B.push([t, 'Samsung Internet', '23.0', v.visitors - 15, v.visits - 18, v.duration - 2000, v.bounces - 7, v.pageviews - 40]);
    O.push([t, 'Mac', '10.15', 5, 6, 800, 2, 15]);
    O.push([t, 'Windows', '10', 5, 6, 700, 3, 15]);
    O.push([t, 'GNU/Linux', '', v.visitors - 10, v.visits - 12, v.duration - 1500, v.bounces - 5, v.pageviews - 30]);
  }
  const range = `${date(first).replace(/-/g, '')}_${date(first + days - 1).replace(/-/g, '')}`;
  const f = (t: string) => `imported_${t}_${range}.csv`;
  return {
    [f('visitors')]: csv(['date', 'visitors', 'pageviews', 'bounces', 'visits', 'visit_duration'], V),
    [f('sources')]: csv(['date', 'source', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'pageviews', 'visitors', 'visits', 'visit_duration', 'bounces'], S),
    [f('pages')]: csv(['date', 'hostname', 'page', 'visits', 'visitors', 'pageviews', 'total_scroll_depth', 'total_scroll_depth_visits', 'total_time_on_page', 'total_time_on_page_visits'], P),
    [f('entry_pages')]: csv(['date', 'entry_page', 'visitors', 'entrances', 'visit_duration', 'bounces', 'pageviews'], EN),
    [f('exit_pages')]: csv(['date', 'exit_page', 'visitors', 'visit_duration', 'exits', 'bounces', 'pageviews'], EX),
    [f('custom_events')]: csv(['date', 'name', 'link_url', 'path', 'visitors', 'events'], CE),
    [f('locations')]: csv(['date', 'country', 'region', 'city', 'visitors', 'visits', 'visit_duration', 'bounces', 'pageviews'], L),
    [f('devices')]: csv(['date', 'device', 'visitors', 'visits', 'visit_duration', 'bounces', 'pageviews'], DV),
    [f('browsers')]: csv(['date', 'browser', 'browser_version', 'visitors', 'visits', 'visit_duration', 'bounces', 'pageviews'], B),
    [f('operating_systems')]: csv(['date', 'operating_system', 'operating_system_version', 'visitors', 'visits', 'visit_duration', 'bounces', 'pageviews'], O),
  };
}

/** A ZIP as Zstream writes Plausible's: stored entries, sizes only in data descriptors and the central directory. */
function zstreamZip(files: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [], cd: Buffer[] = [];
  let off = 0;
  for (const [name, body] of Object.entries(files)) {
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const n = Buffer.from(name);
    const crc = crc32(data) >>> 0;
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0); h.writeUInt16LE(20, 4); h.writeUInt16LE(0x0808, 6); h.writeUInt16LE(n.length, 26);
    const dd = Buffer.alloc(16);
    dd.writeUInt32LE(0x08074b50, 0); dd.writeUInt32LE(crc, 4); dd.writeUInt32LE(data.length, 8); dd.writeUInt32LE(data.length, 12);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0); c.writeUInt16LE(52, 4); c.writeUInt16LE(20, 6); c.writeUInt16LE(0x0808, 8);
    c.writeUInt32LE(crc, 16); c.writeUInt32LE(data.length, 20); c.writeUInt32LE(data.length, 24); c.writeUInt16LE(n.length, 28); c.writeUInt32LE(off, 42);
    parts.push(h, n, data, dd);
    cd.push(c, n);
    off += 30 + n.length + data.length + 16;
  }
  const dir = Buffer.concat(cd), comment = Buffer.from('Created by Zstream');
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0); e.writeUInt16LE(cd.length / 2, 8); e.writeUInt16LE(cd.length / 2, 10);
  e.writeUInt32LE(dir.length, 12); e.writeUInt32LE(off, 16); e.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...parts, dir, e, comment]);
}

/** The same files deflated (a re-zipped export), through Hush's own ZIP writer. */
async function deflatedZip(files: Record<string, string>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c) => chunks.push(c));
  const z = new ZipWriter(out);
  for (const [name, body] of Object.entries(files)) await z.add(`plausible-export/${name}`, Buffer.from(body));
  await z.finish();
  return Buffer.concat(chunks);
}

// ---- Running hush in process (one real process below) ----

async function hush(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

let h: Harness;
let key: string;
let cookie: string;
let zipFile: string;

async function api(body: Json): Promise<Json> {
  const r = await h.core.app.request('/api/v2/query', { method: 'POST', body: JSON.stringify({ site_id: 'example.com', ...body }), headers: { Authorization: `Bearer ${key}` } });
  const json = await r.json();
  assert.is(r.status, 200, JSON.stringify(json));
  return json;
}
const range = (a: number, b: number) => [date(a), date(b)];
const sum = (from: number, to: number, f: (v: Day, d: number) => number) => {
  let s = 0;
  for (let d = from; d <= to; d++) s += f(visitorsOf(d), d);
  return s;
};
const imports = () => h.core.store.sqlite.prepare('SELECT count(*) FROM imports').pluck().get() as number;
const importedRows = () => h.core.store.sqlite.prepare('SELECT count(*) FROM imported_stats').pluck().get() as number;

const setup = suite('import-plausible: setup');
setup('native traffic from 2026-06-10, then the export imported by a real hush process', async () => {
  h = await harness({ HUSH_BATCH_MS: '0' }, START);
  process.env.HUSH_DB = h.dbPath;
  const site = h.core.sites.add({ domain: 'example.com', timezone: 'UTC', minVisitors: 3 });
  h.core.directory.refresh();
  key = h.core.apiKeys.create(site.id);
  // Native: 4 visitors on 06-10 and 3 on 06-11 (each from its own /24), one page view each.
  for (const [day, n] of [[0, 4], [1, 3]]) {
    h.clock.now = START + day * 86_400_000;
    for (let i = 0; i < n; i++) {
      const r = await h.post({ n: 'pageview', u: 'https://example.com/native', d: 'example.com' }, { ip: `203.0.${100 + i}.7` });
      assert.is(r.status, 202);
    }
  }
  h.clock.now = Date.UTC(2026, 5, 12, 12);
  h.core.refreshRollups();
  const user = await h.core.users.create('owner@example.com', 'correct horse battery', true, h.clock.now);
  cookie = `hush_session=${h.core.sessions.create(user.id, h.clock.now).token}`;

  zipFile = path.join(h.dir, 'example_com_20260612.zip');
  writeFileSync(zipFile, zstreamZip(exportFiles()));
  const r = await runCli(['import-plausible', zipFile, '--site', 'example.com'], { HUSH_DB: h.dbPath });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Imported Plausible data for example\.com: 2026-06-01 – 2026-06-12 \(12 days\)/);
  assert.match(r.stdout, /Skipped 1 rows whose values looked like an IP or e-mail address \(pages 1\)/);
  assert.match(r.stdout, /since 2026-06-10: .*\(3 imported days from then on are not shown\)/);
  assert.is(imports(), 1);
});
setup.run();

// ---------------------------------------------------------------------------------------------
const numbers = suite('import-plausible: the Stats API adds imported days');

numbers('top line of the imported days equals the visitors CSV', async () => {
  const res = await api({ metrics: ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration', 'events'], date_range: range(0, IMPORTED - 1) });
  const visits = sum(0, 8, (v) => v.visits);
  const pv = sum(0, 8, (v) => v.pageviews);
  // events: page views plus the custom events (Signup 4 + Outbound 5 a day), never engagement.
  assert.equal(res.results[0].metrics, [sum(0, 8, (v) => v.visitors), visits, pv, Math.round((pv / visits) * 100) / 100,
    Math.round((sum(0, 8, (v) => v.bounces) / visits) * 1000) / 10, Math.round(sum(0, 8, (v) => v.duration) / visits), pv + 9 * IMPORTED]);
  assert.is(res.meta.imports_included, true);
  assert.equal(res.meta.imported, { source: 'plausible', from: '2026-06-01', to: '2026-06-09' });
  assert.is(res.meta.source, 'imported');
});

numbers('native data wins from the first native day: no day is counted twice', async () => {
  const res = await api({ metrics: ['visitors', 'pageviews'], date_range: range(0, 11), dimensions: ['time:day'] });
  const got = Object.fromEntries(res.results.map((r: Json) => [r.dimensions[0], r.metrics]));
  for (let d = 0; d < IMPORTED; d++) assert.equal(got[date(d)], [visitorsOf(d).visitors, visitorsOf(d).pageviews], date(d));
  assert.equal(got['2026-06-10'], [4, 4]);
  assert.equal(got['2026-06-11'], [3, 3]);
  assert.is(got['2026-06-12'], undefined, 'an imported day after the first native one is not shown');
  const total = await api({ metrics: ['visitors'], date_range: range(0, 11) });
  assert.is(total.results[0].metrics[0], sum(0, 8, (v) => v.visitors) + 7);
  assert.is(total.meta.source, 'imported+rollups');
  // "all" starts at the first imported day.
  const all = await api({ metrics: ['visitors'], date_range: 'all' });
  assert.equal(all.query.date_range[0].slice(0, 10), '2026-06-01');
  assert.is(all.results[0].metrics[0], total.results[0].metrics[0]);
});

numbers('breakdowns: sources (k-anonymity folds the one-visitor source), countries, devices, browsers, OS, pages, events', async () => {
  const by = async (dim: string, metrics = ['visitors']) => {
    const res = await api({ metrics, date_range: range(0, 8), dimensions: [dim] });
    return Object.fromEntries(res.results.map((r: Json) => [r.dimensions[0], r.metrics.length === 1 ? r.metrics[0] : r.metrics]));
  };
  assert.equal(await by('visit:source', ['visitors', 'bounce_rate']), {
    Google: [90, Math.round((45 / 108) * 1000) / 10],
    Newsletter: [sum(0, 8, (_, d) => 8 + d), Math.round((27 / sum(0, 8, (_, d) => 10 + d)) * 1000) / 10],
    'Direct / None': [18, Math.round((18 / 27) * 1000) / 10],
    '(other)': [1, 100],
  });
  assert.equal(await by('visit:channel'), { search: 90, email: sum(0, 8, (_, d) => 8 + d), direct: 18, '(other)': 1 });
  assert.equal(await by('visit:utm_campaign'), { 'spring, 2026': sum(0, 8, (_, d) => 8 + d), '(none)': 109 });
  assert.equal(await by('visit:referrer'), { 'google.com/': 90, '(none)': sum(0, 8, (_, d) => 10 + d), '(other)': 1 });
  assert.equal(await by('visit:country'), { DE: 108, FI: sum(0, 8, (v) => v.visitors - 12) });
  assert.equal(await by('visit:device'), { desktop: 90, mobile: sum(0, 8, (v) => v.visitors - 10) });
  assert.equal(await by('visit:browser'), { Chrome: 135, 'Samsung Browser': sum(0, 8, (v) => v.visitors - 15) });
  assert.equal(await by('visit:browser_version'), { 120: 135, 23: sum(0, 8, (v) => v.visitors - 15) });
  assert.equal(await by('visit:os'), { macOS: 45, Windows: 45, Linux: sum(0, 8, (v) => v.visitors - 10) });
  assert.equal(await by('visit:os_version'), { '10.15': 45, 10: 45, '(none)': sum(0, 8, (v) => v.visitors - 10) });
  assert.equal(await by('event:page', ['visitors', 'pageviews', 'time_on_page']), { '/': [162, 360, 40], '/pricing': [63, 180, 50] });
  assert.equal(await by('visit:entry_page', ['visitors', 'visits']), { '/': [135, 153] });
  assert.equal(await by('visit:exit_page', ['visitors', 'visits']), { '/pricing': [81, 99] });
  assert.equal(await by('event:name', ['visitors', 'events']), {
    pageview: [sum(0, 8, (v) => v.visitors), sum(0, 8, (v) => v.pageviews)], Signup: [27, 36], 'Outbound Link: Click': [36, 45],
  });
});

numbers('filters on the imported dimension, and what imports cannot answer', async () => {
  const de = await api({ metrics: ['visitors', 'bounce_rate'], date_range: range(0, 8), filters: [['is', 'visit:country', ['DE']]] });
  assert.equal(de.results[0].metrics, [108, Math.round((54 / 126) * 1000) / 10]);
  assert.is(de.meta.imports_included, true);
  const notDe = await api({ metrics: ['visitors'], date_range: range(0, 8), dimensions: ['visit:country'], filters: [['is_not', 'visit:country', ['DE']]] });
  assert.equal(notDe.results.map((r: Json) => r.dimensions[0]), ['FI']);
  const contains = await api({ metrics: ['visitors'], date_range: range(0, 8), filters: [['contains', 'event:page', ['PRIC'], { case_sensitive: false }]] });
  assert.is(contains.results[0].metrics[0], 63);
  // A filter on one dimension and a breakdown by another: imports have no cross-tabulation.
  const cross = await api({ metrics: ['visitors'], date_range: range(0, 8), dimensions: ['visit:browser'], filters: [['is', 'visit:country', ['DE']]] });
  assert.equal([cross.meta.imports_included, cross.meta.imports_skip_reason, cross.results.length], [false, 'unsupported_query', 0]);
  // Bounce rate of pages is not in Plausible's export.
  const pages = await api({ metrics: ['visitors', 'bounce_rate'], date_range: range(0, 8), dimensions: ['event:page'] });
  assert.equal([pages.meta.imports_included, pages.meta.imports_skip_reason], [false, 'unsupported_metrics']);
  // Hours: imports are daily.
  const day = await api({ metrics: ['visitors'], date_range: range(3, 3), dimensions: ['time'] });
  assert.equal([day.meta.imports_included, day.meta.imports_skip_reason], [false, 'unsupported_interval']);
  // include.imports: false leaves them out; comparisons read them for the earlier period too.
  const off = await api({ metrics: ['visitors'], date_range: range(0, 8), include: { imports: false } });
  assert.equal([off.results[0].metrics[0], off.meta.imports_included], [0, false]);
  const cmp = await api({ metrics: ['visitors'], date_range: range(5, 8), include: { comparison: 'previous_period' } });
  assert.equal(cmp.results[0].comparison.metrics, [sum(1, 4, (v) => v.visitors)]);
  // Native days only: nothing imported to add.
  const native = await api({ metrics: ['visitors'], date_range: range(9, 10) });
  assert.equal([native.results[0].metrics[0], native.meta.imports_included], [7, false]);
});

numbers('the dashboard shows the imported numbers and says so', async () => {
  const r = await h.core.app.request(`/sites/example.com?from=${date(0)}&to=${date(11)}`, { headers: { Cookie: cookie } });
  const page = await r.text();
  assert.is(r.status, 200);
  assert.match(page, /Includes data imported from Plausible for 1 Jun 2026 – 9 Jun 2026\./);
  assert.match(page, new RegExp(`data-metric="visitors">${(sum(0, 8, (v) => v.visitors) + 7).toLocaleString('en-US')}<`));
  assert.match(page, /Samsung Browser/);
  const native = await (await h.core.app.request(`/sites/example.com?from=${date(9)}&to=${date(10)}`, { headers: { Cookie: cookie } })).text();
  assert.not.match(native, /imported from Plausible/);
});

numbers('no personal data was imported: the audit is clean', () => {
  const values = h.core.store.sqlite.prepare("SELECT count(*) FROM imported_stats WHERE value LIKE '%@%'").pluck().get();
  assert.is(values, 0);
  // Schema declared, no IP, e-mail or user-agent anywhere (the daily keys rotate on the server's
  // schedule, which this test's jumping clock never ran).
  const findings = audit(h.dbPath, { now: h.clock.now }).findings.filter((f) => f.check !== 'key-age');
  assert.equal(findings, []);
});
numbers.run();

// ---------------------------------------------------------------------------------------------
const bad = suite('import-plausible: bad input fails clearly and writes nothing');

async function refused(name: string, body: Buffer | string, pattern: RegExp): Promise<void> {
  const file = path.join(h.dir, name);
  writeFileSync(file, body);
  const before = [imports(), importedRows()];
  const r = await hush('import-plausible', file, '--site', 'example.com');
  assert.is(r.code, 1, `${name}: ${r.out}`);
  assert.match(r.err, pattern);
  assert.match(r.err, /nothing was imported$/);
  assert.equal([imports(), importedRows()], before, `${name}: nothing written`);
}

bad('not a ZIP, an empty file, a truncated ZIP, a ZIP of something else', async () => {
  await refused('notes.zip', 'date,visitors\n2026-06-01,3\n', /not a ZIP file/);
  await refused('empty.zip', '', /not a ZIP file/);
  const whole = zstreamZip(exportFiles(2, 20));
  await refused('cut.zip', whole.subarray(0, whole.length - 40), /not a ZIP file|not a valid ZIP/);
  await refused('other.zip', zstreamZip({ 'report.csv': 'a,b\n1,2\n' }), /no Plausible export files in this ZIP/);
});

bad('missing tables, missing columns, bad cells', async () => {
  const files = exportFiles(2, 20);
  const without = Object.fromEntries(Object.entries(files).filter(([n]) => !n.includes('_browsers_')));
  await refused('missing.zip', zstreamZip(without), /missing imported_browsers_….csv/);
  const swap = (table: string, f: (s: string) => string) => zstreamZip(Object.fromEntries(Object.entries(files).map(([n, b]) => [n, n.includes(`_${table}_`) ? f(b) : b])));
  await refused('column.zip', swap('visitors', (s) => s.replace('"visitors",', '"people",')), /imported_visitors_20260621_20260622\.csv: missing column visitors/);
  await refused('number.zip', swap('locations', (s) => s.replace(/,12,14,/, ',twelve,14,')), /imported_locations_\S+\.csv, line 2, column visitors: "twelve" is not a count/);
  await refused('date.zip', swap('visitors', (s) => s.replace('"2026-06-21"', '"21.06.2026"')), /line 2, column date: "21\.06\.2026" is not a date/);
  await refused('cells.zip', swap('devices', (s) => s.replace('"Desktop",', '"Desktop",1,')), /line 2: 8 cells, the header has 7/);
  await refused('quote.zip', swap('pages', (s) => `${s}"2026-06-21,example.com\n`), /a quoted cell is never closed/);
});

bad('zip bombs, damaged and encrypted entries', async () => {
  const files = exportFiles(2, 20);
  const name = Object.keys(files).find((n) => n.includes('_visitors_'))!;
  // A deflated entry 20 MB of one byte: ~1000× — refused before inflating.
  const zeros = Buffer.alloc(20 * 1024 * 1024, 0x30);
  const bomb = await deflatedZip({ ...files, [name]: zeros.toString() });
  await refused('bomb.zip', bomb, /claims to expand \d+ times \(more than 200\): refused as a possible zip bomb/);
  // An entry that lies about its size: inflating stops at the declared size.
  const liar = Buffer.from(await deflatedZip(files));
  const zr = ZipReader.open(writeTemp('liar-probe.zip', liar));
  const entry = zr.entries.find((e) => e.name.endsWith(name))!;
  zr.close();
  const cen = liar.lastIndexOf(Buffer.from(`plausible-export/${name}`)) - 46;
  liar.writeUInt32LE(entry.size - 10, cen + 24);
  await refused('liar.zip', liar, /inflates to more than its declared/);
  // A flipped byte in stored data: CRC-32 mismatch.
  const stored = zstreamZip(files);
  stored[stored.indexOf(Buffer.from('"2026-06-21",')) + 3] ^= 1;
  await refused('crc.zip', stored, /CRC-32 mismatch/);
  const enc = zstreamZip(files);
  const c = enc.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  enc.writeUInt16LE(0x0809, c + 8);
  await refused('encrypted.zip', enc, /is encrypted/);
  // The caps of the reader itself.
  assert.throws(() => ZipReader.open(writeTemp('many.zip', zstreamZip(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}.txt`, 'x'])))), { maxEntries: 4 }),
    (e: unknown) => e instanceof ZipError && /5 entries in the archive, more than the 4/.test((e as Error).message));
  const big = ZipReader.open(writeTemp('big.zip', zstreamZip(files)), { maxEntrySize: 100 });
  assert.throws(() => big.read(big.entries[0]), (e: unknown) => e instanceof ZipError && /more than the 0 MB a file may have/.test((e as Error).message));
  big.close();
});

function writeTemp(name: string, body: Buffer): string {
  const file = path.join(h.dir, name);
  writeFileSync(file, body);
  return file;
}

bad('an export overlapping an existing import is refused; usage errors', async () => {
  await refused('again.zip', zstreamZip(exportFiles(3, 5)), /already has imported data for 2026-06-01 – 2026-06-12 \(import 1\).*hush import-plausible --remove --site example\.com/);
  assert.is((await hush('import-plausible', zipFile)).code, 2);
  assert.is((await hush('import-plausible', '--site', 'example.com')).code, 2);
  assert.is((await hush('import-plausible', zipFile, '--site', 'example.com', '--list')).code, 2);
  const none = await hush('import-plausible', zipFile, '--site', 'nope.example');
  assert.equal([none.code, /no site nope\.example/.test(none.err)], [1, true]);
  const help = await hush('import-plausible', '--help');
  assert.match(help.out, /Plausible's CSV export/);
});
bad.run();

// ---------------------------------------------------------------------------------------------
const more = suite('import-plausible: deflated archives, retention, removal');

more('a re-zipped (deflated, in a folder) export of another site; days past retention are left out and later deleted', async () => {
  h.core.sites.add({ domain: 'old.example', timezone: 'UTC', minVisitors: 1, retentionDays: 30 });
  // Relative to the real clock (the CLI's): 40 days ago … 21 days ago.
  const today = Math.floor(Date.now() / 86_400_000);
  const iso = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);
  const files: Record<string, string> = {};
  for (const [n, body] of Object.entries(exportFiles(1, 0))) {
    const rows = body.split('\n');
    const out = [rows[0]];
    for (let d = today - 40; d <= today - 21; d++) out.push(...rows.slice(1).filter(Boolean).map((r) => r.replace('"2026-06-01"', `"${iso(d)}"`)));
    files[n] = `${out.join('\r\n')}\r\n`;
  }
  const file = writeTemp('old.zip', await deflatedZip(files));
  const dry = await hush('import-plausible', file, '--site', 'old.example', '--dry-run');
  assert.match(dry.out, /Would import .*\(10 days\)/);
  const r = await hush('import-plausible', file, '--site', 'old.example');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`${iso(today - 30)} – ${iso(today - 21)} \\(10 days\\)`));
  assert.match(r.out, /Left out 10 days older than the site's retention/);
  const list = await hush('import-plausible', '--list', '--site', 'old.example');
  assert.match(list.out, /^import 2\tplausible\t/);
  // Retention then deletes imported days as they pass it.
  const sq = h.core.store.sqlite;
  const siteId = h.core.sites.byDomain('old.example')!.id;
  const before = sq.prepare('SELECT count(DISTINCT day) FROM imported_stats WHERE site_id = ?').pluck().get(siteId);
  enforceRetention(sq, Date.now() + 5 * 86_400_000);
  const after = sq.prepare('SELECT count(DISTINCT day) FROM imported_stats WHERE site_id = ?').pluck().get(siteId);
  assert.equal([before, after], [10, 5]);
});

more('a real server (reports on their own thread) answers with the imported days too', async () => {
  const server = await startServerProcess({ HUSH_DB: h.dbPath });
  try {
    const r = await fetch(`${server.url}/api/v2/query`, {
      method: 'POST', headers: { Authorization: `Bearer ${key}` },
      body: JSON.stringify({ site_id: 'example.com', metrics: ['visitors', 'pageviews'], date_range: range(0, 8), dimensions: ['visit:country'] }),
    });
    const json = await r.json();
    assert.is(r.status, 200, JSON.stringify(json));
    assert.equal(Object.fromEntries(json.results.map((x: Json) => [x.dimensions[0], x.metrics[0]])), { DE: 108, FI: sum(0, 8, (v) => v.visitors - 12) });
    assert.equal([json.meta.imports_included, json.meta.source], [true, 'imported']);
  } finally {
    await server.stop();
  }
});

more('--remove takes exactly one site\'s import away', async () => {
  const r = await hush('import-plausible', '--remove', '--site', 'example.com');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /Removed one import of example\.com: [\d,]+ aggregate rows\./);
  const res = await api({ metrics: ['visitors'], date_range: range(0, 11) });
  assert.equal([res.results[0].metrics[0], res.meta.imports_included], [7, undefined]);
  const page = await (await h.core.app.request(`/sites/example.com?from=${date(0)}&to=${date(11)}`, { headers: { Cookie: cookie } })).text();
  assert.not.match(page, /imported from Plausible/);
  assert.equal(h.core.store.sqlite.prepare('SELECT DISTINCT site_id FROM imported_stats').pluck().all(), [h.core.sites.byDomain('old.example')!.id]);
  const again = await hush('import-plausible', '--remove', '--site', 'example.com');
  assert.match(again.out, /has no imported data; nothing removed/);
  // And the same export imports again once removed.
  assert.is((await hush('import-plausible', zipFile, '--site', 'example.com')).code, 0);
});
more.after(async () => {
  await killChildren();
  await h?.close();
});
more.run();
