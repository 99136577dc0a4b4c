// Upgrading a database keeps its data: a file at migration 0004 (text columns on events and
// visits) is filled, then opened by the current code; every value must read back the same
// through the string dictionary, and reports must count it. A file at 0016 (every attribute on
// the visit row, two flag columns on events) must read back the same after 0017 and 0018.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { MIGRATIONS, openDb } from '../src/store/db.ts';
import { tempDir, EVENTS_WITH_VISITS, VISITS_DECODED } from './helpers/harness.ts';
import { registerReportFunctions } from '../src/reports/sql-functions.ts';
import { runQuery } from '../src/reports/engine.ts';
import { refreshRollups } from '../src/reports/rollups.ts';
import { HitWriter } from '../src/store/hit-writer.ts';
import type { Hit } from '../src/collector/hit.ts';

const m = suite('migrations');

m('a 0004 database with text columns comes through the string dictionary intact', () => {
  const { dir, cleanup } = tempDir();
  try {
    // The migrations as they were at 0004.
    const old = path.join(dir, 'migrations-0004');
    cpSync(MIGRATIONS, old, { recursive: true });
    const journal = JSON.parse(readFileSync(path.join(old, 'meta/_journal.json'), 'utf8'));
    journal.entries = journal.entries.filter((e: { idx: number }) => e.idx <= 4);
    writeFileSync(path.join(old, 'meta/_journal.json'), JSON.stringify(journal));
    const file = path.join(dir, 'hush.db');
    const raw = new Database(file);
    migrate(drizzle(raw), { migrationsFolder: old });
    const ts = Date.UTC(2026, 5, 1, 10);
    raw.prepare("INSERT INTO sites (id, domain, timezone, created_at) VALUES (1, 'a.example', 'UTC', 0), (2, 'b.example', 'UTC', 0)").run();
    raw.prepare(`INSERT INTO visits (id, site_id, visitor_id, start_ts, end_ts, entry_page, exit_page, hostname, pageviews, events, bounce,
      engagement_ms, referrer_host, referrer_path, source, channel, utm_source, country, browser, browser_version, os, os_version, device, language, screen)
      VALUES (1, 1, -5, ?, ?, '/', '/docs', 'a.example', 2, 1, 0, 0, 'google.com', '/search', 'Google', 'search', NULL, 'DE', 'Firefox', '121',
      'Windows', '10', 'desktop', 'de-DE', 'laptop'),
      (2, 2, 7, ?, ?, '/', '/', 'b.example', 1, 0, 1, 0, NULL, NULL, NULL, 'direct', 'news', 'US', 'Safari', '17', 'iOS', '17', 'mobile', NULL, NULL)`)
      .run(ts, ts + 60_000, ts, ts);
    const ev = raw.prepare(`INSERT INTO events (site_id, ts, visit_id, name, hostname, pathname, bytes, status, props, source_type)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    ev.run(1, ts, 1, 'pageview', 'a.example', '/', 1000, 200, null, 'script');
    ev.run(1, ts + 30_000, 1, 'Signup', 'a.example', '/', null, null, '{"plan":"pro"}', 'script');
    ev.run(1, ts + 60_000, 1, 'pageview', 'a.example', '/docs', 2000, 200, null, 'script');
    ev.run(2, ts, 2, 'pageview', 'b.example', '/', 500, 404, null, 'log');
    // As the 0004 writer did in the same transaction: the hours to roll up.
    raw.prepare('INSERT INTO rollup_dirty (site_id, hour, gen) SELECT DISTINCT site_id, ts / 3600000, 1 FROM events WHERE true ON CONFLICT DO NOTHING').run();
    raw.close();

    const store = openDb(file);
    const db = store.sqlite;
    const events = db.prepare(`SELECT site_id, name, hostname, pathname, bytes, status, props, source_type, country, browser, referrer, source
      FROM ${EVENTS_WITH_VISITS} ORDER BY id`).all();
    assert.equal(events, [
      { site_id: 1, name: 'pageview', hostname: 'a.example', pathname: '/', bytes: 1000, status: 200, props: null, source_type: 'script', country: 'DE', browser: 'Firefox', referrer: 'google.com/search', source: 'Google' },
      { site_id: 1, name: 'Signup', hostname: 'a.example', pathname: '/', bytes: null, status: null, props: '{"plan":"pro"}', source_type: 'script', country: 'DE', browser: 'Firefox', referrer: 'google.com/search', source: 'Google' },
      { site_id: 1, name: 'pageview', hostname: 'a.example', pathname: '/docs', bytes: 2000, status: 200, props: null, source_type: 'script', country: 'DE', browser: 'Firefox', referrer: 'google.com/search', source: 'Google' },
      { site_id: 2, name: 'pageview', hostname: 'b.example', pathname: '/', bytes: 500, status: 404, props: null, source_type: 'log', country: 'US', browser: 'Safari', referrer: null, source: null },
    ]);
    const visits = db.prepare(`SELECT visitor_id, entry_page, exit_page, utm_source, language, screen FROM ${VISITS_DECODED} ORDER BY id`).all();
    assert.equal(visits, [
      { visitor_id: -5, entry_page: '/', exit_page: '/docs', utm_source: null, language: 'de-DE', screen: 'laptop' },
      { visitor_id: 7, entry_page: '/', exit_page: '/', utm_source: 'news', language: null, screen: null },
    ]);
    // Each value once per site; both sites have their own "/".
    assert.is((db.prepare("SELECT count(*) AS n FROM strings WHERE value = '/'").get() as { n: number }).n, 2);
    assert.is((db.prepare('SELECT count(*) AS n FROM (SELECT site_id, value FROM strings GROUP BY site_id, value HAVING count(*) > 1)').get() as { n: number }).n, 0);
    // Reports count the upgraded rows.
    registerReportFunctions(db);
    const site = { id: 1, domain: 'a.example', timezone: 'UTC', minVisitors: 1 };
    refreshRollups(db, [site], ts);
    const res = runQuery({ sqlite: db, site, goals: [], now: ts }, { site_id: 'a.example', metrics: ['visitors', 'pageviews', 'events'], date_range: 'day', dimensions: ['event:page'] });
    assert.equal(res.results, [{ metrics: [1, 1, 2], dimensions: ['/'] }, { metrics: [1, 1, 1], dimensions: ['/docs'] }]);
    store.close();
  } finally {
    cleanup();
  }
});

m('a 0016 database: visit attributes move to platforms and acquisitions, end_ts to a duration, event flags to one column; every value reads the same', () => {
  const { dir, cleanup } = tempDir();
  try {
    const old = path.join(dir, 'migrations-0016');
    cpSync(MIGRATIONS, old, { recursive: true });
    const journal = JSON.parse(readFileSync(path.join(old, 'meta/_journal.json'), 'utf8'));
    journal.entries = journal.entries.filter((e: { idx: number }) => e.idx <= 16);
    writeFileSync(path.join(old, 'meta/_journal.json'), JSON.stringify(journal));
    const file = path.join(dir, 'hush.db');
    const raw = new Database(file);
    migrate(drizzle(raw), { migrationsFolder: old });
    raw.prepare("INSERT INTO sites (id, domain, timezone, created_at) VALUES (1, 'a.example', 'UTC', 0), (2, 'b.example', 'UTC', 0)").run();
    const str = raw.prepare('INSERT INTO strings (site_id, value) VALUES (?, ?) ON CONFLICT DO UPDATE SET value = value RETURNING id').pluck();
    const id = (site: number, v: string | null) => (v === null ? null : str.get(site, v) as number);
    const ts = Date.UTC(2026, 5, 1, 10);
    // [site, start, end, referrer, source, channel, utm source, medium, campaign, content, term, country, browser, version, os, os version, device, language, screen]
    const visits: Array<[number, number, number, ...Array<string | null>]> = [
      [1, ts, ts + 61_000, 'google.com/', 'Google', 'search', null, null, null, null, null, 'DE', 'Firefox', '121', 'Windows', '10', 'desktop', 'de-DE', 'laptop'],
      [1, ts + 5, ts + 5, null, null, 'direct', null, null, null, null, null, 'DE', 'Firefox', '121', 'Windows', '10', 'desktop', 'de-DE', 'laptop'],
      [1, ts + 9, ts + 3_000_000, 't.co/x', 'Twitter', 'social', 'news', 'email', 'june', 'a', 'b', null, null, null, null, null, 'mobile', null, null],
      [2, ts, ts + 1, null, null, 'direct', null, null, null, null, null, 'US', 'Firefox', '121', 'Windows', '10', 'desktop', 'de-DE', 'laptop'],
    ];
    const insVisit = raw.prepare(`INSERT INTO visits (id, site_id, visitor_id, start_ts, end_ts, entry_page_id, exit_page_id, host_id, pageviews, events, bounce,
      engagement_ms, referrer_id, source_id, channel_id, utm_source_id, utm_medium_id, utm_campaign_id, utm_content_id, utm_term_id, country_id,
      browser_id, browser_version_id, os_id, os_version_id, device_id, language_id, screen_id) VALUES (${Array(28).fill('?').join(', ')})`);
    visits.forEach(([site, start, end, ...text], i) => insVisit.run(i + 1, site, -5 - i, start, end, id(site, '/'), id(site, '/docs'), id(site, `${site}.example`),
      2, 1, i % 2, 4_000, ...text.map((t) => id(site, t))));
    // interactive / from_log: every combination.
    const insEvent = raw.prepare(`INSERT INTO events (id, site_id, ts, visit_id, name_id, host_id, page_id, bytes, interactive, from_log)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    [[1, 0], [0, 0], [1, 1], [0, 1]].forEach(([inter, log], i) => insEvent.run(i + 1, 1, ts + i, 1, id(1, 'pageview'), id(1, 'a.example'), id(1, '/'), 100 + i, inter, log));
    const decode = (db: Database.Database) => db.prepare(`SELECT id, site_id, visitor_id, start_ts, end_ts, entry_page, exit_page, pageviews, bounce, referrer, source,
      channel, utm_source, utm_medium, utm_campaign, utm_content, utm_term, country, browser, browser_version, os, os_version, device, language, screen
      FROM ${VISITS_DECODED} ORDER BY id`).all();
    const flags = (db: Database.Database) => db.prepare('SELECT id, interactive, from_log, bytes FROM events ORDER BY id').all();
    // What the 0016 tables say, decoded by hand (VISITS_DECODED reads the current schema).
    const before = raw.prepare(`SELECT v.id, v.site_id, v.visitor_id, v.start_ts, v.end_ts, ${['entry_page', 'exit_page'].map((c) => `(SELECT value FROM strings WHERE id = v.${c}_id) AS ${c}`).join(', ')},
      v.pageviews, v.bounce, ${['referrer', 'source', 'channel', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'country', 'browser',
      'browser_version', 'os', 'os_version', 'device', 'language', 'screen'].map((c) => `(SELECT value FROM strings WHERE id = v.${c}_id) AS ${c}`).join(', ')}
      FROM visits v ORDER BY v.id`).all();
    const flagsBefore = flags(raw);
    // As the writer keeps them: ids go on from the highest.
    raw.prepare('UPDATE sequences SET value = 100').run();
    raw.close();

    const store = openDb(file);
    const db = store.sqlite;
    assert.equal(decode(db), before);
    assert.equal(flags(db), flagsBefore);
    // One row per combination and site: visits 1 and 2 share theirs; site 2's equal values are its own row.
    assert.equal(db.prepare('SELECT site_id, count(*) AS n FROM platforms GROUP BY site_id').all(), [{ site_id: 1, n: 2 }, { site_id: 2, n: 1 }]);
    assert.equal(db.prepare('SELECT site_id, count(*) AS n FROM acquisitions GROUP BY site_id').all(), [{ site_id: 1, n: 3 }, { site_id: 2, n: 1 }]);
    const platformOf = (visit: number) => db.prepare('SELECT platform_id FROM visits WHERE id = ?').pluck().get(visit) as number;
    assert.is(platformOf(2), platformOf(1));
    assert.is.not(platformOf(3), platformOf(1));
    assert.not.ok(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'visits_site_start_idx'").get(), 'the index is gone');
    // The writer goes on with the same rows: a new visit with visit 1's platform refers to its row.
    const w = new HitWriter(db, ts + 10_000_000);
    const hit: Hit = {
      siteId: 1, ts: ts + 10_000_000, visitorId: 99n, prevVisitorId: null, name: 'pageview', hostname: 'a.example', pathname: '/', bytes: null,
      status: null, loadMs: null, engagementMs: null, props: null, revenueAmount: null, revenueCurrency: null, interactive: false,
      sourceType: 'log', referrerHost: null, referrerPath: null, source: null, channel: 'direct', utmSource: null, utmMedium: null,
      utmCampaign: null, utmContent: null, utmTerm: null, country: 'DE', browser: 'Firefox', browserVersion: '121', os: 'Windows',
      osVersion: '10', device: 'desktop', language: 'de-DE', screen: 'laptop',
    };
    assert.equal(w.write([hit]), ['ok']);
    const v = db.prepare('SELECT platform_id, acquisition_id, end_ts, start_ts FROM visits WHERE visitor_id = 99').get() as Record<string, number>;
    assert.equal([v.platform_id, v.acquisition_id, v.end_ts], [platformOf(1), db.prepare('SELECT acquisition_id FROM visits WHERE id = 2').pluck().get(), v.start_ts]);
    assert.equal(db.prepare('SELECT interactive, from_log FROM events WHERE visit_id = (SELECT id FROM visits WHERE visitor_id = 99)').get(), { interactive: 0, from_log: 1 });
    assert.is(db.prepare('SELECT count(*) FROM platforms').pluck().get(), 3, 'no new platform row');
    store.close();
  } finally {
    cleanup();
  }
});

m('two processes writing at once (a server and an import) never hand out the same event or visit id', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'hush.db');
    const a = openDb(file), b = openDb(file);
    a.sqlite.prepare("INSERT INTO sites (id, domain, timezone, created_at) VALUES (1, 'a.example', 'UTC', 0)").run();
    const hit = (ts: number, visitor: bigint): Hit => ({
      siteId: 1, ts, visitorId: visitor, prevVisitorId: null, name: 'pageview', hostname: 'a.example', pathname: '/', bytes: null,
      status: null, loadMs: null, engagementMs: null, props: null, revenueAmount: null, revenueCurrency: null, interactive: true,
      sourceType: 'script', referrerHost: null, referrerPath: null, source: null, channel: 'direct', utmSource: null, utmMedium: null,
      utmCampaign: null, utmContent: null, utmTerm: null, country: null, browser: null, browserVersion: null, os: null,
      osVersion: null, device: 'desktop', language: null, screen: null,
    });
    const t = Date.UTC(2026, 5, 1);
    const wa = new HitWriter(a.sqlite, t), wb = new HitWriter(b.sqlite, t);
    for (let i = 0; i < 20; i++) {
      // the same millisecond in both, so only the id tells the rows apart
      wa.write(Array.from({ length: 5 }, (_, j) => hit(t + i, BigInt(j))));
      wb.write(Array.from({ length: 5 }, (_, j) => hit(t + i, BigInt(100 + j))));
    }
    const ids = a.sqlite.prepare('SELECT id FROM events').pluck().all() as number[];
    assert.is(ids.length, 200);
    assert.is(new Set(ids).size, 200);
    // 10 visitors: 10 visits, each with its own 20 page views (none overwrote another's row)
    const visits = a.sqlite.prepare('SELECT id, pageviews FROM visits').all() as Array<{ id: number; pageviews: number }>;
    assert.equal([visits.length, new Set(visits.map((v) => v.id)).size, visits.every((v) => v.pageviews === 20)], [10, 10, true]);
    a.close();
    b.close();
  } finally {
    cleanup();
  }
});

m.run();
