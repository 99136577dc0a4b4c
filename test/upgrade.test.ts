// Upgrades: test/fixtures/hush-0000.sql is a database written by the schema of the first release
// (migration 0000 only; scripts/make-upgrade-fixture.ts), kept as SQL text and loaded here. A real server started on a copy migrates it to
// today's schema, and the Stats API then answers what the old rows say (computed here from the
// old tables with plain SQL). A migration that fails is rolled back with every other pending
// one: the file keeps its old schema and rows, and upgrades cleanly once the fault is gone.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, cpSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServerProcess, killChildren, spawnHush } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';
import { tempDir } from './helpers/harness.ts';
import { FIXTURES } from './helpers/fixtures.ts';
import { MIGRATIONS, applyMigrations, openDb } from '../src/store/db.ts';
import { ipsIn, USER_AGENT } from '../src/privacy/personal-data.ts';

const FIXTURE_SQL = path.join(FIXTURES, 'hush-0000.sql');
// The first-release database, built once from its SQL text for this file's tests.
const fixtureDir = mkdtempSync(path.join(tmpdir(), 'hush-upgrade-fixture-'));
const FIXTURE = path.join(fixtureDir, 'hush-0000.db');
{
  const db = new Database(FIXTURE);
  db.exec(readFileSync(FIXTURE_SQL, 'utf8'));
  db.close();
}
process.on('exit', () => rmSync(fixtureDir, { recursive: true, force: true }));
const RANGE = ['2026-11-20', '2026-11-21'];
const journal = () => JSON.parse(readFileSync(path.join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ idx: number; when: number; tag: string }> };

interface Expected {
  top: Record<string, number>;
  pages: Record<string, [number, number]>;
  countries: Record<string, number>;
  sources: Record<string, number>;
  names: Record<string, number>;
}

/** What the first release's tables say, by plain SQL on its own schema (visitors: daily uniques summed). */
function expectedFrom(file: string, site: number): Expected {
  const db = new Database(file, { readonly: true });
  try {
    const day = "date(ts / 1000, 'unixepoch')";
    const one = (sql: string) => db.prepare(sql).pluck().get(site) as number;
    const map = (sql: string) => Object.fromEntries((db.prepare(sql).raw().all(site) as Array<[string, number]>));
    return {
      top: {
        visitors: one(`SELECT sum(n) FROM (SELECT count(DISTINCT visitor_id) AS n FROM events WHERE site_id = ? GROUP BY ${day})`),
        visits: one('SELECT count(*) FROM visits WHERE site_id = ?'),
        pageviews: one("SELECT count(*) FROM events WHERE site_id = ? AND name = 'pageview'"),
        events: one('SELECT count(*) FROM events WHERE site_id = ?'),
      },
      pages: Object.fromEntries((db.prepare(`SELECT pathname, sum(v), sum(p) FROM (SELECT pathname, count(DISTINCT visitor_id) AS v, count(*) AS p
        FROM events WHERE site_id = ? AND name = 'pageview' GROUP BY pathname, ${day}) GROUP BY pathname`).raw().all(site) as Array<[string, number, number]>)
        .map(([p, v, n]) => [p, [v, n]])),
      countries: map(`SELECT country, sum(n) FROM (SELECT country, count(DISTINCT visitor_id) AS n FROM events WHERE site_id = ? GROUP BY country, ${day}) GROUP BY country`),
      sources: map(`SELECT coalesce(source, 'Direct / None'), sum(n) FROM (SELECT source, count(DISTINCT visitor_id) AS n FROM visits WHERE site_id = ? GROUP BY source, date(start_ts / 1000, 'unixepoch')) GROUP BY source`),
      names: map('SELECT name, count(*) FROM events WHERE site_id = ? GROUP BY name'),
    };
  } finally {
    db.close();
  }
}

const schemaOf = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
  } finally {
    db.close();
  }
};

const up = suite('upgrade');
let cleanup = () => {};
up.after.each(async () => {
  await killChildren();
  cleanup();
});

up('the fixture holds no address, user-agent or key', () => {
  const text = readFileSync(FIXTURE_SQL, 'utf8') + readFileSync(FIXTURE).toString('latin1');
  assert.equal(ipsIn(text), []);
  assert.not.ok(USER_AGENT.test(text));
  const db = new Database(FIXTURE, { readonly: true });
  assert.equal([db.prepare('SELECT count(*) FROM daily_keys').pluck().get(), db.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()], [0, 1]);
  db.close();
});

up('a first-release database: the server migrates it at start and reports answer what its rows say', async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const dbPath = path.join(t.dir, 'hush.db');
  copyFileSync(FIXTURE, dbPath);
  const expected = { 'shop.example': expectedFrom(dbPath, 1), 'blog.example': expectedFrom(dbPath, 2) };
  const srv = await startServerProcess({ HUSH_DB: dbPath });
  const applied = new Database(dbPath, { readonly: true });
  assert.is(applied.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get(), journal().entries.length, 'every migration applied');
  applied.close();
  for (const [domain, exp] of Object.entries(expected)) {
    assert.ok(exp.top.events > 50 && Object.keys(exp.pages).length >= 3 && Object.keys(exp.countries).length >= 3, `${domain}: a fixture worth comparing`);
    const key = (await runCliInProcess(['key', 'add', '--site', domain], { HUSH_DB: dbPath })).stdout.trim().split('\n').pop()!;
    const query = async (body: Record<string, unknown>) => {
      const r = await fetch(`${srv.url}/api/v2/query`, { method: 'POST', headers: { Authorization: `Bearer ${key}` }, body: JSON.stringify({ site_id: domain, date_range: RANGE, ...body }) });
      const json = await r.json();
      assert.is(r.status, 200, JSON.stringify(json));
      return json.results as Array<{ metrics: number[]; dimensions: string[] }>;
    };
    const byDim = (rows: Array<{ metrics: number[]; dimensions: string[] }>, f: (m: number[]) => unknown) => Object.fromEntries(rows.map((r) => [r.dimensions[0], f(r.metrics)]));
    const top = (await query({ metrics: ['visitors', 'visits', 'pageviews', 'events'] }))[0].metrics;
    assert.equal(top, [exp.top.visitors, exp.top.visits, exp.top.pageviews, exp.top.events], `${domain} top line`);
    assert.equal(byDim(await query({ metrics: ['visitors', 'pageviews'], dimensions: ['event:page'] }), (m) => m), exp.pages, `${domain} pages`);
    assert.equal(byDim(await query({ metrics: ['visitors'], dimensions: ['visit:country'] }), (m) => m[0]), exp.countries, `${domain} countries`);
    assert.equal(byDim(await query({ metrics: ['visitors'], dimensions: ['visit:source'] }), (m) => m[0]), exp.sources, `${domain} sources`);
    assert.equal(byDim(await query({ metrics: ['events'], dimensions: ['event:name'] }), (m) => m[0]), exp.names, `${domain} event names`);
  }
  assert.is(await srv.stop(), 0);
  const audit = await runCliInProcess(['audit'], { HUSH_DB: dbPath }); // main() in this process; the server above is the real one
  assert.is(audit.code, 0, audit.stdout);
});

up('a failing migration rolls back every pending one: old schema and rows kept, and a later upgrade works', () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const dbPath = path.join(t.dir, 'hush.db');
  copyFileSync(FIXTURE, dbPath);
  const before = schemaOf(dbPath);
  // Today's migrations plus one that fails halfway (its first statement works).
  const broken = path.join(t.dir, 'migrations');
  cpSync(MIGRATIONS, broken, { recursive: true });
  const j = journal();
  const last = j.entries[j.entries.length - 1];
  j.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1, tag: '9999_broken' });
  writeFileSync(path.join(broken, 'meta/_journal.json'), JSON.stringify(j));
  writeFileSync(path.join(broken, '9999_broken.sql'), 'CREATE TABLE `probe` (`x` integer);\n--> statement-breakpoint\nINSERT INTO `no_such_table` VALUES (1);\n');
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  assert.throws(() => applyMigrations(db, broken), /could not be upgraded, and nothing in it was changed .*: no such table: no_such_table/);
  assert.is(db.inTransaction, false);
  db.close();
  assert.equal(schemaOf(dbPath), before, 'the first release schema, untouched');
  const check = new Database(dbPath, { readonly: true });
  assert.equal([check.prepare('SELECT count(*) FROM events').pluck().get(), check.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()], [363, 1]);
  check.close();
  const store = openDb(dbPath);
  assert.is(store.sqlite.prepare('SELECT count(*) FROM events').pluck().get(), 363);
  assert.is(store.sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get(), j.entries.length - 1);
  store.close();
});

up('a server whose migration fails does not start, and leaves the file as it was', async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const dbPath = path.join(t.dir, 'hush.db');
  copyFileSync(FIXTURE, dbPath);
  // A table in the way of migration 0005 (which creates `strings`): the upgrade fails there, after 0001..0004 ran.
  const db = new Database(dbPath);
  db.exec('CREATE TABLE strings (x)');
  db.close();
  const before = schemaOf(dbPath);
  const child = spawnHush(['serve'], { HUSH_DB: dbPath, PORT: '0', HOST: '127.0.0.1' });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('close', r));
  assert.is(code, 1, out);
  assert.match(out, /^hush: the database could not be upgraded, and nothing in it was changed \(every pending migration was rolled back\): table `strings` already exists\n$/);
  assert.not.match(out, /listening on/);
  assert.equal(schemaOf(dbPath), before, 'not one of the pending migrations is left applied');
});

up.run();
