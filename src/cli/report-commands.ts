// CLI commands around reports: `hush goal`, `hush export` and `hush demo`.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { loadConfig } from '../config.ts';
import { openDb, type OpenDb } from '../store/db.ts';
import { SiteDirectory, SiteRepo, isTimeZone, normalizeDomain } from '../store/sites.ts';
import { GoalError, GoalRepo } from '../store/goals.ts';
import { HitWriter } from '../store/hit-writer.ts';
import { registerReportFunctions } from '../reports/sql-functions.ts';
import { refreshRollups } from '../reports/rollups.ts';
import { reportCsv, STANDARD_REPORTS } from '../reports/export.ts';
import { ZipWriter } from '../reports/zip.ts';
import { QueryError } from '../reports/query-error.ts';
import { removeSite } from '../privacy/erase.ts';
import { runPipeline } from '../collector/pipeline.ts';
import { AgentCache } from '../collector/user-agent.ts';
import { KeyRing, memoryKeyStore } from '../pseudonymize/daily-keys.ts';
import { loadCountryTables } from '../pseudonymize/country-data.ts';
import { demoHits } from '../demo/demo-traffic.ts';
import type { Hit } from '../collector/hit.ts';
import { UsageError, Failure } from './errors.ts';

export const REPORT_HELP = {
  goal: `Usage: hush goal add --site <domain> (--event NAME | --page PATTERN) [--name NAME]
       hush goal list --site <domain>
       hush goal remove --site <domain> --name NAME

A goal is a custom event name (e.g. Signup) or a page path pattern (/thanks, /blog/*, /docs/**).
Reports show goals under the event:goal dimension with their conversion rate.`,
  export: `Usage: hush export --site <domain> [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out FILE.zip]

Writes every standard report (visitors by day, pages, sources, countries, browsers, …) as one
CSV each into a ZIP file (default <domain>-export.zip), with the same k-anonymity as the API:
rows describing fewer than the site's min_visitors visitors are folded into "(other)".
Without --from/--to: everything the site has.`,
  demo: `Usage: hush demo [--days N] [--visits N] [--timezone Area/City] [--reset]

Fills the site demo.test with realistic synthetic traffic (default: 30 days, ~400 visits on a
weekday) through the real pipeline, builds its rollups and adds two goals, so reports and the
dashboard have something to show at once. --reset replaces earlier demo data.`,
};

function withStore<T>(fn: (s: OpenDb) => T): T {
  const config = loadConfig();
  const store = openDb(config.dbPath, { synchronous: config.synchronous });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function siteArg(raw: unknown, cmd: string): string {
  if (typeof raw !== 'string' || !raw) throw new UsageError(`${cmd}: missing --site <domain>`);
  const d = normalizeDomain(raw);
  if (!d) throw new UsageError(`${cmd}: "${raw}" is not a domain name (e.g. example.com)`);
  return d;
}

type Values = Record<string, string | boolean | undefined>;

export function goalCommand(sub: string | undefined, values: Values): void {
  const domain = siteArg(values.site, `goal ${sub}`);
  withStore(({ db }) => {
    const site = new SiteRepo(db).byDomain(domain);
    if (!site) throw new Failure(`goal: no site ${domain} (see hush site list)`);
    const goals = new GoalRepo(db);
    if (sub === 'add') {
      try {
        const g = goals.add(site.id, { event: values.event as string | undefined, page: values.page as string | undefined, name: values.name as string | undefined });
        console.log(`Added goal "${g.name}" (${g.kind} ${g.value}) to ${domain}.`);
      } catch (e) {
        if (e instanceof GoalError) throw new UsageError(`goal add: ${e.message}`);
        throw e;
      }
    } else if (sub === 'list') {
      const list = goals.list(site.id);
      if (list.length === 0) console.log(`No goals for ${domain}: add one with  hush goal add --site ${domain} --event Signup`);
      for (const g of list) console.log(`${g.name}\t${g.kind}\t${g.value}`);
    } else if (sub === 'remove') {
      if (typeof values.name !== 'string') throw new UsageError('goal remove: missing --name NAME');
      if (!goals.remove(site.id, values.name)) throw new Failure(`goal remove: ${domain} has no goal "${values.name}"`);
      console.log(`Removed goal "${values.name}" from ${domain}.`);
    } else {
      throw new UsageError(`goal: unknown subcommand "${sub ?? ''}" (add, list, remove)`);
    }
  });
}

export async function exportCommand(values: Values): Promise<void> {
  const domain = siteArg(values.site, 'export');
  const from = values.from as string | undefined, to = values.to as string | undefined;
  const out = (values.out as string | undefined) ?? `${domain}-export.zip`;
  const config = loadConfig();
  const store = openDb(config.dbPath, { synchronous: config.synchronous });
  try {
    registerReportFunctions(store.sqlite);
    const site = new SiteRepo(store.db).byDomain(domain);
    if (!site) throw new Failure(`export: no site ${domain} (see hush site list)`);
    refreshRollups(store.sqlite, [site]);
    const now = Date.now();
    const today = new Date(now).toISOString().slice(0, 10);
    const range = from || to ? [from ?? '2000-01-01', to ?? today] : 'all';
    const ctx = { sqlite: store.sqlite, site, goals: new GoalRepo(store.db).list(site.id), now };
    const file = createWriteStream(out);
    const zip = new ZipWriter(file);
    let rows = 0;
    try {
      for (const report of STANDARD_REPORTS) {
        if (report.dimension === 'event:goal' && ctx.goals.length === 0) continue;
        const lines = [...reportCsv(ctx, report, range)];
        rows += lines.length - 1;
        await zip.add(report.file, Buffer.from(lines.join(''), 'utf8'));
      }
      await zip.finish();
    } catch (e) {
      file.destroy();
      if (e instanceof QueryError) throw new UsageError(`export: ${e.message.replace('"date_range"', '--from/--to')}`);
      throw e;
    }
    file.end();
    await once(file, 'close');
    console.log(`Wrote ${out}: ${rows} rows in ${STANDARD_REPORTS.length} reports for ${domain}.`);
  } finally {
    store.close();
  }
}

const DEMO = 'demo.test';

export async function demoCommand(values: Values): Promise<void> {
  const num = (name: string, def: number, max: number) => {
    const raw = values[name];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`demo: --${name} must be a whole number from 1 to ${max}`);
    return n;
  };
  const days = num('days', 30, 400), visitsPerDay = num('visits', 400, 20_000);
  const timezone = (values.timezone as string | undefined) ?? 'Europe/Berlin';
  if (!isTimeZone(timezone)) throw new UsageError(`demo: --timezone "${timezone}" is not a time zone (e.g. Europe/Berlin)`);
  const config = loadConfig();
  const countries = await loadCountryTables();
  const store = openDb(config.dbPath, { synchronous: 'NORMAL' });
  try {
    const sites = new SiteRepo(store.db);
    let site = sites.byDomain(DEMO);
    if (site) {
      const n = (store.sqlite.prepare('SELECT count(*) AS n FROM events WHERE site_id = ?').get(site.id) as { n: number }).n;
      if (n > 0 && values.reset !== true) throw new Failure(`demo: ${DEMO} already has ${n} events (--reset replaces them)`);
      removeSite(store.sqlite, site.id, false);
    }
    site = sites.add({ domain: DEMO, timezone });
    const goals = new GoalRepo(store.db);
    goals.add(site.id, { event: 'Signup' });
    goals.add(site.id, { page: '/pricing' });
    const end = Date.now();
    const hits = demoHits({ domain: DEMO, timezone, days, visitsPerDay, end }, countries);
    // Synthetic visitors get ids from keys that live in memory only: nothing to delete later.
    const deps = { precision: config.precision, sites: new SiteDirectory(sites), agents: new AgentCache(), countries, keys: new KeyRing(memoryKeyStore()) };
    const writer = new HitWriter(store.sqlite, hits[0]?.ts ?? end);
    let batch: Hit[] = [];
    const flush = () => {
      if (batch.length) writer.write(batch);
      batch = [];
    };
    for (const h of hits) {
      const r = runPipeline(h.ev, { ip: h.ip, userAgent: h.userAgent, acceptLanguage: null, optOut: false, now: h.ts, sourceType: 'script' }, deps);
      if (r.kind !== 'hits') continue;
      batch.push(...r.hits);
      if (batch.length >= 2000) {
        flush();
        writer.prune(h.ts);
      }
    }
    flush();
    const built = refreshRollups(store.sqlite, [site], end);
    const visits = (store.sqlite.prepare('SELECT count(*) AS n FROM visits WHERE site_id = ?').get(site.id) as { n: number }).n;
    console.log(`Filled ${DEMO} with ${visits} visits (${hits.length} hits) over ${days} days, ${built.days} days rolled up.`);
    console.log(`Query it: hush key add --site ${DEMO}, then POST /api/v2/query with {"site_id": "${DEMO}", "metrics": ["visitors"], "date_range": "30d"}`);
  } finally {
    store.close();
  }
}
