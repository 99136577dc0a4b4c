// Makes test/fixtures/hush-0000.sql, the upgrade test's database as SQL text (a binary database
// file is not kept in git): the schema of Hush's first
// release (commit 73e3f6d, migration 0000 only, taken from git so later edits cannot leak in),
// filled with two days of synthetic traffic written with that schema's own SQL. Run once:
//   npx tsx scripts/make-upgrade-fixture.ts
// Deterministic (a seeded generator): running it again gives the same rows. No IP address, no
// user-agent and no daily key is in it (the first release stored none of them either).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { dumpSql } from './sql-dump.ts';

const FIRST_RELEASE = '73e3f6d';
const root = path.join(import.meta.dirname, '..');
const sqlOut = path.join(root, 'test/fixtures/hush-0000.sql');

const tmp = mkdtempSync(path.join(tmpdir(), 'hush-fixture-'));
try {
  execFileSync('sh', ['-c', `git archive ${FIRST_RELEASE} db/migrations | tar -x -C "${tmp}"`], { cwd: root });
  const out = path.join(tmp, 'hush-0000.db');
  const db = new Database(out);
  migrate(drizzle(db), { migrationsFolder: path.join(tmp, 'db/migrations') });

  let seed = 20261121;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

  db.prepare(`INSERT INTO sites (id, domain, timezone, min_visitors, retention_days, exclude_paths, created_at) VALUES
    (1, 'shop.example', 'UTC', 3, 36500, '', ?), (2, 'blog.example', 'UTC', 3, 36500, '', ?)`).run(Date.UTC(2026, 10, 19), Date.UTC(2026, 10, 19));
  const visit = db.prepare(`INSERT INTO visits (id, site_id, visitor_id, start_ts, end_ts, entry_page, exit_page, hostname, pageviews, events, bounce,
    engagement_ms, referrer_host, referrer_path, source, channel, country, browser, browser_version, os, os_version, device, language, screen)
    VALUES (@id, @site, @visitor, @start, @end, @entry, @exit, @host, @pageviews, @events, @bounce, 0, @refHost, @refPath, @source, @channel,
    @country, @browser, @browserVersion, @os, @osVersion, @device, @language, @screen)`);
  const event = db.prepare(`INSERT INTO events (site_id, ts, visit_id, visitor_id, name, hostname, pathname, referrer_host, referrer_path, source,
    channel, country, browser, browser_version, os, os_version, device, language, screen, bytes, status, props, interactive, source_type)
    VALUES (@site, @ts, @visit, @visitor, @name, @host, @path, @refHost, @refPath, @source, @channel, @country, @browser, @browserVersion, @os,
    @osVersion, @device, @language, @screen, @bytes, @status, @props, 1, 'script')`);

  const pages = { 1: ['/', '/pricing', '/docs', '/cart'], 2: ['/', '/posts/hello', '/posts/sqlite'] } as Record<number, string[]>;
  const refs = [
    { refHost: null, refPath: null, source: null, channel: 'direct' },
    { refHost: 'www.google.com', refPath: '/', source: 'Google', channel: 'organic_search' },
    { refHost: 'news.ycombinator.com', refPath: '/item', source: 'Hacker News', channel: 'organic_social' },
  ];
  const agents = [
    { browser: 'Firefox', browserVersion: '121', os: 'Windows', osVersion: '10', device: 'desktop', screen: 'desktop' },
    { browser: 'Chrome', browserVersion: '120', os: 'Mac OS', osVersion: '10', device: 'desktop', screen: 'laptop' },
    { browser: 'Mobile Safari', browserVersion: '17', os: 'iOS', osVersion: '17', device: 'mobile', screen: 'mobile' },
  ];
  let visitId = 1;
  const write = db.transaction(() => {
    for (const site of [1, 2]) {
      const host = site === 1 ? 'shop.example' : 'blog.example';
      for (const day of [20, 21]) {
        const visitors = site === 1 ? 40 : 15;
        for (let v = 0; v < visitors; v++) {
          // Daily visitor ids: a 64-bit hash in the real thing, a fixed pattern here.
          const visitor = BigInt(site * 1_000_000 + day * 1000 + v) * 7919n - 4_000_000_000_000n;
          const who = { site, visitor, host, country: pick(['FI', 'DE', 'US', 'SE']), language: pick(['fi-FI', 'de-DE', 'en-US']), ...pick(agents) };
          let t = Date.UTC(2026, 10, day, 6 + Math.floor(rand() * 16), Math.floor(rand() * 60));
          const nVisits = rand() < 0.25 ? 2 : 1;
          for (let k = 0; k < nVisits; k++) {
            const ref = pick(refs);
            const n = 1 + Math.floor(rand() * 4);
            const paths = Array.from({ length: n }, () => pick(pages[site]));
            const signup = site === 1 && rand() < 0.3;
            const id = visitId++;
            const start = t;
            for (const p of paths) {
              event.run({ ...who, ...ref, ts: t, visit: id, name: 'pageview', path: p, bytes: 1000 + Math.floor(rand() * 50_000), status: 200, props: null });
              t += 10_000 + Math.floor(rand() * 60_000);
            }
            if (signup) event.run({ ...who, ...ref, ts: t, visit: id, name: 'Signup', path: paths[n - 1], bytes: null, status: null, props: JSON.stringify({ plan: pick(['free', 'pro']) }) });
            visit.run({
              ...who, ...ref, id, start, end: t, entry: paths[0], exit: paths[n - 1], pageviews: n, events: signup ? 1 : 0,
              bounce: n === 1 && !signup ? 1 : 0,
            });
            t += 3_600_000; // the next visit starts after the 30-minute gap
          }
        }
      }
    }
  });
  write();
  db.pragma('journal_mode = DELETE');
  db.exec('VACUUM');
  db.close();
  writeFileSync(sqlOut, dumpSql(out));
  console.log(`wrote ${sqlOut}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
