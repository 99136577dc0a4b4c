// A full disk never costs an acknowledged hit. HUSH_DB_MAX_MB caps the file with SQLite's
// max_page_count, so the writer hits SQLITE_FULL for real without root or a small file system.
// While full: hits get 503 with Retry-After, /healthz answers 503 and says why, and no batch is
// half-written. When space returns (here: another connection drops a big table, freeing pages
// inside the capped file) the writer's own probe notices it with no hit sent, /healthz is 200
// again, and ingestion resumes. Afterwards every 202 is stored, no 503
// is, and visits agree with their events.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServerProcess, killChildren } from './helpers/spawn-server.ts';
import { tempDir } from './helpers/harness.ts';
import { openDb } from '../src/store/db.ts';
import { SiteRepo } from '../src/store/sites.ts';
import { startLoad, sleep } from './helpers/load.ts';

/** `hush site add example.com`, in this process: a CLI process costs seconds of start-up here. */
function addSite(dbPath: string): void {
  const store = openDb(dbPath);
  new SiteRepo(store.db).add({ domain: 'example.com' });
  store.close();
}

const MAX_MB = 2;

const full = suite('disk full');
let cleanup = () => {};
full.after.each(async () => {
  await killChildren();
  cleanup();
});

full('503 + Retry-After while full, /healthz says so, resumes by itself, every 202 stored', async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const dbPath = path.join(t.dir, 'hush.db');
  addSite(dbPath);
  // Fill the file to a few pages under the cap with a table the test drops later.
  const db = new Database(dbPath);
  db.pragma('busy_timeout = 5000');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const cap = (MAX_MB * 1_048_576) / pageSize;
  db.exec('CREATE TABLE filler (x BLOB)');
  const fill = db.prepare('INSERT INTO filler VALUES (randomblob(?))');
  while ((db.pragma('page_count', { simple: true }) as number) < cap - 40) fill.run(pageSize - 100);
  db.pragma('wal_checkpoint(TRUNCATE)');

  const srv = await startServerProcess({ HUSH_DB: dbPath, HUSH_DB_MAX_MB: String(MAX_MB), HUSH_TRUSTED_PROXIES: '127.0.0.1/32' });
  // Many visitors (documentation addresses), so visits are written as well as events.
  const load = startLoad(srv.url, { concurrency: 8, headers: (i) => ({ 'X-Forwarded-For': `203.0.113.${i % 250}` }) });
  try {
    for (let i = 0; i < 200 && load.unavailable.size < 30; i++) await sleep(100);
    assert.ok(load.unavailable.size >= 30, `the cap was reached (${load.acked.size} accepted, ${load.unavailable.size} refused)`);
    assert.ok([...load.unavailable.values()].every((v) => v === '5'), 'every 503 has Retry-After: 5');
    const h = await fetch(`${srv.url}/healthz`);
    const body = await h.json();
    assert.is(h.status, 503);
    assert.equal([body.status, body.store, body.error, body.code], ['degraded', 'failing', 'database or disk is full', 'SQLITE_FULL']);
    const r = await fetch(`${srv.url}/api/event`, { method: 'POST', body: '{"n":"pageview","u":"https://example.com/x","d":"example.com"}', headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' } });
    assert.is(r.status, 503);
    assert.match((await r.json()).error, /could not be stored; try again later/);

    // Space returns, with no traffic: nothing is restarted, and the writer's probe finds it.
    await load.stop();
    const ackedBefore = load.acked.size;
    // Still full: the probes (one a second) keep failing and say so.
    await sleep(2500);
    const still = await fetch(`${srv.url}/healthz`);
    assert.equal([still.status, (await still.json()).code], [503, 'SQLITE_FULL']);
    db.exec('DROP TABLE filler');
    const freedAt = performance.now();
    let health = 503;
    while (health !== 200 && performance.now() - freedAt < 10_000) {
      await sleep(100);
      const r = await fetch(`${srv.url}/healthz`);
      health = r.status;
      if (health === 200) assert.is((await r.json()).store, 'ok');
      else await r.arrayBuffer();
    }
    const healthyMs = performance.now() - freedAt;
    assert.is(health, 200, '/healthz recovered without a hit');
    const again = startLoad(srv.url, { concurrency: 8, prefix: '/again/', headers: (i) => ({ 'X-Forwarded-For': `198.51.100.${i % 250}` }) });
    try {
      while (again.acked.size < 200 && performance.now() - freedAt < 20_000) await sleep(50);
    } finally {
      await again.stop();
    }
    assert.ok(again.acked.size >= 200, 'ingestion resumed');
    assert.is(again.unavailable.size, 0, 'no 503 once space is back');
    for (const [p, at] of again.acked) load.acked.set(p, at);
    for (const [s, n] of again.other) load.other.set(s, n);
    console.log(`  cap reached after ${ackedBefore} hits; ${load.unavailable.size} refused with 503; /healthz 200 again ${Math.round(healthyMs)} ms after space returned, with no hit sent`);
    assert.is(await srv.stop(), 0);
  } finally {
    await load.stop();
  }
  assert.equal([...load.other], [], 'only 202 and 503 answers');

  const pages = new Set(db.prepare('SELECT s.value FROM events e JOIN strings s ON s.id = e.page_id').pluck().all() as string[]);
  const lost = [...load.acked.keys()].filter((p) => !pages.has(p));
  assert.equal(lost.slice(0, 5), [], `${lost.length} acknowledged hits are missing`);
  const ghosts = [...load.unavailable.keys()].filter((p) => pages.has(p));
  assert.equal(ghosts.slice(0, 5), [], `${ghosts.length} refused hits were stored anyway`);
  assert.is(db.pragma('integrity_check', { simple: true }), 'ok');
  // Nothing half-written: each event's visit exists and each visit's page views are its events.
  assert.is(db.prepare('SELECT count(*) FROM events e WHERE e.visit_id <> 0 AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.id = e.visit_id)').pluck().get(), 0);
  assert.is(db.prepare(`SELECT count(*) FROM visits v WHERE v.pageviews <> (SELECT count(*) FROM events e WHERE e.site_id = v.site_id AND e.visit_id = v.id
    AND e.name_id = (SELECT id FROM strings WHERE site_id = v.site_id AND value = 'pageview'))`).pluck().get(), 0);
  db.close();
});

full.run();
