// `hush import` end to end, as a user runs it: the 10,000 real Apache lines checked against
// counts computed independently here, no address of the file anywhere in the database or the
// output, .gz, stdin, re-import and overlapping rotated files counting nothing twice, --dry-run,
// malformed lines, and --follow through a rotation.
//
// The first import, standard input, --follow and one error run `hush` as a real process; the
// other commands run main() in this process (runCliInProcess: same code, ~1.5 s less CPU each).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, appendFileSync, renameSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';
import { runCli, spawnHush, killChildren } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';
import { tempDir, EVENTS_WITH_VISITS } from './helpers/harness.ts';
import { APACHE_LOG_GZ, apacheLog } from './helpers/fixtures.ts';

// The real log, gzipped: `hush import` is given the .gz itself (it detects gzip by magic bytes).
const LOG = APACHE_LOG_GZ;
const ALL = apacheLog().split('\n').filter(Boolean);

let dir: string, cleanup: () => void, env: Record<string, string>;
const db = () => new Database(env.HUSH_DB, { readonly: true });
function q<T>(sql: string): T[] {
  const d = db();
  try {
    return d.prepare(sql).all() as T[];
  } finally {
    d.close();
  }
}
async function fresh(): Promise<void> {
  ({ dir, cleanup } = tempDir());
  env = { HUSH_DB: path.join(dir, 'hush.db') };
  // The log is from 2015: a long retention, or every line would be past it.
  const r = await runCliInProcess(['site', 'add', 'semicomplete.com', '--retention-days', '36500'], env);
  assert.is(r.code, 0, r.stderr);
}

// ---------------------------------------------------------------------------------------------
// The expected figures, computed here with a regex of this test's own, not the importer's code.
interface Line { ip: string; method: string; path: string; status: number; bytes: number; ua: string }
const LINE = /^(\S+) \S+ \S+ \[[^\]]+\] "(\S+) (\S+)[^"]*" (\d{3}) (\S+) "[^"]*" "(.*)"$/;
const parsed: Line[] = ALL.map((l) => LINE.exec(l)).filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ ip: m[1], method: m[2], path: m[3], status: Number(m[4]), bytes: m[5] === '-' ? 0 : Number(m[5]), ua: m[6] }));
const humans = parsed.filter((l) => l.ua && !isbot(l.ua));
const ASSET = /\.(css|js|json|xml|txt|ico|png|jpe?g|gif|svg|woff2?|ttf|eot|pdf|zip|gz|tgz|bz2|rss|atom|mp4|mp3|webm|map|swf)$/i;
const pageLines = humans.filter((l) => l.method === 'GET' && ((l.status >= 200 && l.status < 400) || l.status === 404) && !ASSET.test(l.path.split('?')[0]));

const real = suite('import: the real Apache log');
real.before(fresh);
real.after(() => cleanup());

let output = '';
real('imports, with the summary and exit code 3 for the one truncated line', async () => {
  const r = await runCli(['import', LOG, '--site', 'semicomplete.com'], env);
  output = r.stdout + r.stderr;
  assert.is(r.code, 3, output);
  assert.match(r.stdout, /Read 10,000 lines/);
  assert.match(r.stdout, /combined \(detected\)/);
  assert.match(r.stdout, /malformed 1/);
  assert.match(r.stdout, /line 8899: /);
  assert.match(r.stdout, /"\[masked\]/, "the user-agent of the shown line is masked whole");
  assert.not.match(r.stdout, /referrer spam|excluded/, 'no other skip reason, so the counts below are exact');
});

real('page views per path match the independent count', () => {
  const expected = new Map<string, number>();
  for (const l of pageLines) {
    let p = l.path.split('?')[0];
    try { p = decodeURIComponent(p); } catch { /* keep */ }
    expected.set(p, (expected.get(p) ?? 0) + 1);
  }
  const rows = q<{ pathname: string; n: number }>(`SELECT pathname, count(*) AS n FROM ${EVENTS_WITH_VISITS} WHERE name = 'pageview' GROUP BY pathname`);
  const got = new Map(rows.map((r) => [r.pathname, r.n]));
  assert.is(rows.reduce((a, r) => a + r.n, 0), pageLines.length);
  for (const [p, n] of [...expected].sort((a, b) => b[1] - a[1]).slice(0, 20)) assert.is(got.get(p), n, p);
});

real('status codes and bytes of every (non-bot) request', () => {
  const expected = new Map<number, number>();
  for (const l of humans) expected.set(l.status, (expected.get(l.status) ?? 0) + 1);
  const rows = q<{ status: number; n: number; bytes: number }>('SELECT status, count(*) AS n, sum(coalesce(bytes, 0)) AS bytes FROM events GROUP BY status');
  assert.equal(Object.fromEntries(rows.map((r) => [r.status, r.n])), Object.fromEntries(expected));
  assert.is(rows.reduce((a, r) => a + r.bytes, 0), humans.reduce((a, l) => a + l.bytes, 0));
});

real('browsers of the page views', () => {
  const fam = (ua: string) => {
    const n = new UAParser(ua).getBrowser().name ?? null;
    return n === 'Mobile Safari' ? 'Safari' : n === 'Mobile Chrome' ? 'Chrome' : n === 'Mobile Firefox' ? 'Firefox' : n;
  };
  const expected = new Map<string | null, number>();
  for (const l of pageLines) expected.set(fam(l.ua), (expected.get(fam(l.ua)) ?? 0) + 1);
  const rows = q<{ browser: string | null; n: number }>(`SELECT browser, count(*) AS n FROM ${EVENTS_WITH_VISITS} WHERE name = 'pageview' GROUP BY browser`);
  for (const b of ['Chrome', 'Firefox', 'Safari']) assert.is(rows.find((r) => r.browser === b)?.n, expected.get(b), b);
  assert.ok(q<{ n: number }>('SELECT count(*) AS n FROM events WHERE from_log = 1')[0].n === humans.length);
});

real('none of the file\'s addresses in the database, its WAL or the output; no key outlives the import', () => {
  const bytes = Buffer.concat([env.HUSH_DB, `${env.HUSH_DB}-wal`].filter(existsSync).map((f) => readFileSync(f))).toString('latin1');
  const ips = new Set(parsed.map((l) => l.ip));
  assert.ok(ips.size > 1000);
  for (const ip of ips) {
    if (ip.endsWith('.0')) continue; // the /24 prefix text of x.y.z.0 is the address itself
    assert.not.ok(bytes.includes(ip), `${ip} in the database`);
    assert.not.ok(output.includes(ip), `${ip} in the output`);
  }
  for (const ua of new Set(parsed.map((l) => l.ua).filter((u) => u.length > 30))) {
    assert.not.ok(bytes.includes(ua), 'a full UA in the database');
    assert.not.ok(output.includes(ua.slice(0, 30)), 'a UA in the output');
  }
  assert.is(q('SELECT day FROM daily_keys').length, 0, 'the 2015 keys were deleted after use');
});

real('importing the same file again counts nothing twice', async () => {
  const before = q<{ n: number }>('SELECT count(*) AS n FROM events')[0].n;
  const r = await runCliInProcess(['import', LOG, '--site', 'semicomplete.com'], env);
  assert.match(r.stdout, /duplicate 9,999/);
  assert.is(q<{ n: number }>('SELECT count(*) AS n FROM events')[0].n, before);
});

real('the imported database passes the privacy audit, and --ips finds none of the file\'s addresses', async () => {
  const ipsFile = path.join(dir, 'ips.txt');
  writeFileSync(ipsFile, [...new Set(parsed.map((l) => l.ip))].join('\n'));
  const r = await runCliInProcess(['audit', '--ips', ipsFile], env);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Clean: nothing found/);
});

real('lines past the site\'s retention are never stored', async () => {
  const other = path.join(dir, 'short.db');
  const e2 = { HUSH_DB: other };
  assert.is((await runCliInProcess(['site', 'add', 'semicomplete.com', '--retention-days', '30'], e2)).code, 0);
  const r = await runCliInProcess(['import', LOG, '--site', 'semicomplete.com'], e2);
  assert.match(r.stdout, /past retention 9,999/);
  const d = new Database(other, { readonly: true });
  assert.is((d.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, 0);
  d.close();
});

real.run();

// ---------------------------------------------------------------------------------------------
const sources = suite('import: sources and options');
sources.before.each(fresh);
sources.after.each(async () => {
  await killChildren(); // the --follow importer, if its test failed before stopping it
  cleanup();
});

const count = () => q<{ n: number }>('SELECT count(*) AS n FROM events')[0].n;
const GOOD = ALL.slice(0, 3000);

sources('.gz, several files in one run, overlapping rotated files count once', async () => {
  const whole = path.join(dir, 'whole.log');
  writeFileSync(whole, GOOD.join('\n') + '\n');
  const ref = await runCliInProcess(['import', whole, '--site', 'semicomplete.com'], env);
  assert.is(ref.code, 0, ref.stdout + ref.stderr);
  const expected = count();
  cleanup();
  await fresh();
  const older = path.join(dir, 'access.log.1.gz'), newer = path.join(dir, 'access.log');
  writeFileSync(older, gzipSync(GOOD.slice(0, 2000).join('\n') + '\n'));
  writeFileSync(newer, GOOD.slice(1500).join('\n') + '\n'); // 500 lines overlap
  const r = await runCliInProcess(['import', older, newer, '--site', 'semicomplete.com'], env);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(count(), expected);
  assert.match(r.stdout, /duplicate 500/);
});

sources('standard input', async () => {
  const r = await runCli(['import', '-', '--site', 'semicomplete.com', '--format', 'combined'], env, GOOD.slice(0, 500).join('\n') + '\n');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Read 500 lines/);
  assert.ok(count() > 0);
});

sources('--dry-run writes nothing (not even keys)', async () => {
  const f = path.join(dir, 'a.log');
  writeFileSync(f, GOOD.slice(0, 500).join('\n'));
  const r = await runCliInProcess(['import', f, '--site', 'semicomplete.com', '--dry-run'], env);
  assert.match(r.stdout, /dry run: nothing was written/);
  assert.match(r.stdout, /page views: +[1-9]/);
  assert.is(count(), 0);
  assert.is(q('SELECT * FROM daily_keys').length, 0);
  assert.is(q('SELECT * FROM import_state').length, 0);
});

sources('errors: unknown site, missing file, bad format, undetectable format', async () => {
  const f = path.join(dir, 'junk.log');
  writeFileSync(f, 'this is not\na log file\n');
  for (const [args, code, re] of [
    [['import', f, '--site', 'nope.com'], 1, /no site nope\.com/],
    [['import', path.join(dir, 'missing.log'), '--site', 'semicomplete.com'], 1, /no such file/],
    [['import', f, '--site', 'semicomplete.com', '--format', 'iis'], 2, /unknown --format "iis"/],
    [['import', f, '--site', 'semicomplete.com', '--format', 'custom:$foo'], 2, /unknown field \$foo/],
    [['import', f, '--site', 'semicomplete.com'], 1, /cannot tell the log format/],
    [['import', '--site', 'semicomplete.com'], 2, /name at least one log file/],
  ] as Array<[string[], number, RegExp]>) {
    const r = await runCliInProcess(args, env);
    assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  // the first again, as a real process: the exit code the shell sees, one line on stderr
  const real = await runCli(['import', f, '--site', 'nope.com'], env);
  assert.is(real.code, 1, real.stderr);
  assert.match(real.stderr, /^hush: import: no site nope\.com[^\n]*\n$/);
});

sources('--follow reads new lines, through a rotation, and stops cleanly', async () => {
  const f = path.join(dir, 'live.log');
  writeFileSync(f, GOOD.slice(0, 100).join('\n') + '\n');
  const child = spawnHush(['import', f, '--site', 'semicomplete.com', '--follow'], env);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitForLines = async (n: number) => {
    for (let i = 0; i < 200; i++) {
      const got = existsSync(env.HUSH_DB) ? q<{ n: number }>('SELECT count(*) AS n FROM events WHERE from_log = 1')[0]?.n ?? 0 : 0;
      if (got >= n) return got;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never reached ${n} events:\n${out}`);
  };
  const humansIn = (lines: string[]) => lines.filter((l) => { const m = LINE.exec(l); return m && m[6] && !isbot(m[6]); }).length;
  await waitForLines(humansIn(GOOD.slice(0, 100)));
  appendFileSync(f, GOOD.slice(100, 200).join('\n') + '\n');
  await waitForLines(humansIn(GOOD.slice(0, 200)));
  renameSync(f, `${f}.1`); // logrotate: a new file appears at the path
  appendFileSync(`${f}.1`, GOOD.slice(200, 250).join('\n') + '\n'); // written to the old file before the server reopens
  writeFileSync(f, GOOD.slice(250, 300).join('\n') + '\n');
  const total = await waitForLines(humansIn(GOOD.slice(0, 300)));
  child.kill('SIGTERM');
  assert.is(await exited, 0, out);
  assert.is(total, humansIn(GOOD.slice(0, 300)));
  assert.match(out, /Read 300 lines/);
});

sources.run();
