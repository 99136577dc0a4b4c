// The `hush` command line. Every command has --help; a usage error is one line on stderr and
// exit code 2; a failure (unknown site, duplicate site) is one line and exit code 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, ConfigError } from '../config.ts';
import { openDb, type OpenDb } from '../store/db.ts';
import { SiteRepo, normalizeDomain, isTimeZone, pathMatcher } from '../store/sites.ts';
import { ApiKeyRepo } from '../store/api-keys.ts';
import { importCommand, ImportUsageError, IMPORT_HELP } from './import-command.ts';
import { ImportError } from '../import/importer.ts';
import { enforceRetention } from '../privacy/retention.ts';
import { removeSite } from '../privacy/erase.ts';
import { createInterface } from 'node:readline/promises';
import { readFileSync, existsSync } from 'node:fs';
import ipaddr from 'ipaddr.js';

import { UsageError, Failure } from './errors.ts';
// The server, reports, e-mail and the other commands' modules load when their command runs:
// loading them all for every command cost `hush import` 44 MB of peak RSS (144 vs 100 MB right
// after start-up) and ~0.6 s of CPU, for code it never runs.

const HELP: Record<string, string> = {
  main: `hush — self-hosted, cookieless web analytics that never keeps a visitor's IP address

Usage: hush <command> [options]

Commands:
  serve                     run the collector and API server
  site add <domain>         register a website
  site list                 list websites
  site remove <domain>      delete a website and all its data
  key add --site <domain>   create a Stats API key
  user add <email>          create a dashboard account (or grant it a site)
  goal add|list|remove      conversion goals (a custom event or a page pattern)
  funnel add|list|remove    funnels: 2–8 steps (pages or custom events) visits reach in order
  export --site <domain>    every standard report as CSV files in a ZIP
  demo                      fill demo.test with a month of realistic synthetic traffic
  import <file…|-> --site   import web server access logs
  import-plausible <zip> --site  import a Plausible CSV export (--list, --remove)
  retention [--dry-run]     delete data past each site's retention now
  audit [--json] [--ips F]  check the stored data against the privacy invariants
  privacy [--markdown]      what is stored, why and for how long (policy text with --markdown)
  backup <file>             an online, consistent copy of the database (daily keys left out)
  report send --site --to   e-mail one weekly or monthly report now (needs HUSH_SMTP_URL)

Environment: HUSH_DB (default ./data/hush.db), PORT (default 8080), HUSH_TRUSTED_PROXIES,
HUSH_IP_PRECISION (default|strict), HUSH_SYNC (full|normal). Run 'hush <command> --help' for more.`,
  serve: `Usage: hush serve [--port N] [--db PATH]

Serves POST /api/event, /api/v2/query and /healthz. Creates and migrates the database on first run.
Options:
  --port N      port to listen on (default: $PORT or 8080)
  --db PATH     SQLite database file (default: $HUSH_DB or ./data/hush.db)`,
  site: `Usage: hush site add <domain> [--timezone Area/City] [--min-visitors K] [--exclude PATTERNS]
       hush site list
       hush site remove <domain> [--yes]`,
  'site add': `Usage: hush site add <domain> [--timezone Area/City] [--min-visitors K] [--retention-days N] [--exclude PATTERNS]

Registers a website so its hits are accepted.
Options:
  --timezone TZ        IANA time zone its reports use (default UTC), e.g. Europe/Helsinki
  --min-visitors K     k-anonymity: report rows with fewer visitors fold into "(other)" (default 3)
  --retention-days N   delete events older than N days (default 760, about 25 months: the CNIL ceiling)
  --list-publicly      show this site's retention and k at the public /api/privacy
  --exclude PATTERNS   comma-separated paths whose hits are dropped, e.g. "/admin/*,/drafts/**"`,
  audit: `Usage: hush audit [--json] [--ips FILE]

Read-only check of the database named by HUSH_DB, safe beside a running server: the schema
against the data inventory; every stored value and the raw bytes of the database file and its
WAL for IP addresses, user-agent strings and e-mail addresses; daily keys past their lifetime;
events past each site's retention; min_visitors below the floor (HUSH_MIN_K_FLOOR, default 3).
  --json       the same report as JSON
  --ips FILE   also look for these addresses (one a line) as text, integers, hex and raw bytes
Exit code 0 when clean, 1 when anything was found.`,
  retention: `Usage: hush retention [--dry-run]

Deletes every site's events and visits older than its retention (whole local days in the site's
time zone). The server does this hourly by itself; this runs it now. --dry-run only counts.`,
  'site list': `Usage: hush site list

Lists registered websites with their time zone and k.`,
  'site remove': `Usage: hush site remove <domain> [--erase] [--yes]

Deletes a website, its API keys and all its events and visits (freed pages are zeroed).
  --erase   also compact the database (VACUUM) so no byte of the site's rows remains in the file
  --yes     do not ask for confirmation (needed when not on a terminal)`,
  privacy: `Usage: hush privacy [--markdown --site <domain>]

Prints what Hush stores, why and for how long (the same document as GET /api/privacy). With
--markdown and --site, a ready-to-paste privacy-policy section and a GDPR record-of-processing
entry for that site.`,
  backup: `Usage: hush backup <file>

Writes a consistent copy of the database named by HUSH_DB to <file> while the server keeps
running (SQLite VACUUM INTO: one snapshot, compacted). The copy is written under a temporary
name and renamed when complete; <file> must not exist. The daily keys are left out of the copy,
so it may be kept as long as your retention allows; a restored copy starts with fresh keys.
Prints the size and the time taken. Exit code 1 on failure (existing target, full disk), and
nothing is left behind.`,
  key: `Usage: hush key add --site <domain>`,
  'key add': `Usage: hush key add --site <domain>

Creates a Stats API key for the site and prints it as the last line. Only a hash is stored:
copy it now, it cannot be shown again.`,
};

function parse(args: string[], options: ParseArgsConfig['options']): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

function withDb<T>(fn: (store: OpenDb) => T, dbPath?: string): T {
  const config = loadConfig();
  const store = openDb(dbPath ?? config.dbPath, { synchronous: config.synchronous });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function domainArg(raw: string | undefined, cmd: string): string {
  if (!raw) throw new UsageError(`${cmd}: missing <domain>`);
  const d = normalizeDomain(raw);
  if (!d) throw new UsageError(`${cmd}: "${raw}" is not a domain name (e.g. example.com)`);
  return d;
}

async function serve(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { port: { type: 'string' }, db: { type: 'string' } });
  if (values.help) return void console.log(HELP.serve);
  if (positionals.length) throw new UsageError(`serve: unexpected argument "${positionals[0]}"`);
  const env = { ...process.env };
  if (values.port !== undefined) env.PORT = values.port as string;
  if (values.db !== undefined) env.HUSH_DB = values.db as string;
  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  const { startServer } = await import('../server/node-server.ts');
  const server = await startServer(config);
  const siteList = withDb((s) => new SiteRepo(s.db).list(), config.dbPath);
  console.log(`Hush is listening on ${server.url} (database: ${config.dbPath}, IP precision: ${config.precision})`);
  if (siteList.length === 0) {
    console.log(`No sites yet: add one with  npm run hush -- site add example.com`);
  }
  const domains = siteList.length ? siteList.map((s) => s.domain) : ['example.com'];
  console.log('Paste this into each page of your site:');
  for (const d of domains) console.log(`  <script defer data-domain="${d}" src="${server.url}/hush.js"></script>`);
  const stop = async (signal: string) => {
    console.log(`${signal}: flushing and closing`);
    await server.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

async function siteCmd(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') return void console.log(HELP.site);
  if (sub === 'add') {
    const { values, positionals } = parse(rest, {
      timezone: { type: 'string' }, 'min-visitors': { type: 'string' }, exclude: { type: 'string' },
      'retention-days': { type: 'string' }, 'list-publicly': { type: 'boolean' },
    });
    if (values.help) return void console.log(HELP['site add']);
    const domain = domainArg(positionals[0], 'site add');
    if (positionals.length > 1) throw new UsageError(`site add: unexpected argument "${positionals[1]}"`);
    const timezone = (values.timezone as string | undefined) ?? 'UTC';
    if (!isTimeZone(timezone)) throw new UsageError(`site add: --timezone "${timezone}" is not an IANA time zone (e.g. Europe/Helsinki)`);
    const kRaw = values['min-visitors'] as string | undefined;
    const minVisitors = kRaw === undefined ? 3 : Number(kRaw);
    if (!Number.isInteger(minVisitors) || minVisitors < 1 || minVisitors > 1000) {
      throw new UsageError(`site add: --min-visitors must be a whole number from 1 to 1000, got "${kRaw}"`);
    }
    const rRaw = values['retention-days'] as string | undefined;
    const retentionDays = rRaw === undefined ? 760 : Number(rRaw);
    if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 36500) {
      throw new UsageError(`site add: --retention-days must be a whole number of days from 1 to 36500, got "${rRaw}"`);
    }
    const excludePaths = (values.exclude as string | undefined) ?? '';
    try {
      pathMatcher(excludePaths);
    } catch {
      throw new UsageError(`site add: --exclude "${excludePaths}" is not a valid list of path patterns`);
    }
    withDb(({ db }) => {
      const repo = new SiteRepo(db);
      if (repo.byDomain(domain)) throw new Failure(`site add: ${domain} already exists`);
      repo.add({ domain, timezone, minVisitors, excludePaths, retentionDays, listed: values['list-publicly'] ? 1 : 0 });
    });
    console.log(`Added ${domain} (time zone ${timezone}, k=${minVisitors}, retention ${retentionDays} days). Snippet:`);
    console.log(`  <script defer data-domain="${domain}" src="https://YOUR-HUSH-HOST/hush.js"></script>`);
    return;
  }
  if (sub === 'list') {
    const { values, positionals } = parse(rest, {});
    if (values.help) return void console.log(HELP['site list']);
    if (positionals.length) throw new UsageError(`site list: unexpected argument "${positionals[0]}"`);
    const list = withDb(({ db }) => new SiteRepo(db).list());
    if (list.length === 0) return void console.log('No sites. Add one with: hush site add example.com');
    for (const s of list) console.log(`${s.domain}\ttimezone=${s.timezone}\tmin_visitors=${s.minVisitors}\tretention_days=${s.retentionDays}${s.excludePaths ? `\texclude=${s.excludePaths}` : ''}`);
    return;
  }
  if (sub === 'remove') {
    const { values, positionals } = parse(rest, { yes: { type: 'boolean', short: 'y' }, erase: { type: 'boolean' } });
    if (values.help) return void console.log(HELP['site remove']);
    const domain = domainArg(positionals[0], 'site remove');
    const config = loadConfig();
    const store = openDb(config.dbPath, { synchronous: config.synchronous });
    try {
      const site = new SiteRepo(store.db).byDomain(domain);
      if (!site) throw new Failure(`site remove: no site ${domain} (see hush site list)`);
      const n = (store.sqlite.prepare('SELECT count(*) AS n FROM events WHERE site_id = ?').get(site.id) as { n: number }).n;
      if (!values.yes && (n > 0 || values.erase)) {
        const what = `${domain} and all its data (${n} events)${values.erase ? ', then compact the database file' : ''}`;
        if (!process.stdin.isTTY) throw new Failure(`site remove: this deletes ${what}; run again with --yes to confirm`);
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(`This deletes ${what}. Type the domain to confirm: `);
        rl.close();
        if (answer.trim().toLowerCase() !== domain) throw new Failure('site remove: not confirmed; nothing was deleted');
      }
      const removed = removeSite(store.sqlite, site.id, values.erase === true);
      console.log(`Removed ${domain}: ${removed.events} events and ${removed.visits} visits${values.erase ? '; the database was compacted, so no byte of them is left in the file' : ''}.`);
    } finally {
      store.close();
    }
    return;
  }
  throw new UsageError(`site: unknown subcommand "${sub}" (add, list, remove)`);
}

function keyCmd(args: string[]): void {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') return void console.log(HELP.key);
  if (sub !== 'add') throw new UsageError(`key: unknown subcommand "${sub}" (add)`);
  const { values, positionals } = parse(rest, { site: { type: 'string' } });
  if (values.help) return void console.log(HELP['key add']);
  if (positionals.length) throw new UsageError(`key add: unexpected argument "${positionals[0]}"`);
  const domain = domainArg(values.site as string | undefined, 'key add --site');
  const key = withDb(({ db }) => {
    const site = new SiteRepo(db).byDomain(domain);
    if (!site) throw new Failure(`key add: no site ${domain} (see hush site list)`);
    return new ApiKeyRepo(db).create(site.id);
  });
  console.log(`New Stats API key for ${domain}. Copy it now: only its hash is stored.`);
  console.log(key);
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined: case 'help': case '--help': case '-h':
        console.log(HELP.main);
        return cmd === undefined ? 2 : 0;
      case 'serve': await serve(rest); return 0;
      case 'site': await siteCmd(rest); return 0;
      case 'key': keyCmd(rest); return 0;
      case 'privacy': {
        const { values, positionals } = parse(rest, { markdown: { type: 'boolean' }, site: { type: 'string' } });
        if (values.help) return void console.log(HELP.privacy), 0;
        if (positionals.length) throw new UsageError(`privacy: unexpected argument "${positionals[0]}"`);
        const { privacyDocument, privacyMarkdown } = await import('../privacy/document.ts');
        const config = loadConfig();
        if (values.markdown) {
          const domain = domainArg(values.site as string | undefined, 'privacy --markdown --site');
          const site = withDb(({ db }) => new SiteRepo(db).byDomain(domain));
          if (!site) throw new Failure(`privacy: no site ${domain} (see hush site list)`);
          console.log(privacyMarkdown(config.precision, site));
        } else {
          const listed = withDb(({ db }) => new SiteRepo(db).list().filter((s) => s.listed === 1));
          console.log(JSON.stringify(privacyDocument(config.precision, config.kFloor, listed), null, 2));
        }
        return 0;
      }
      case 'audit': {
        const { values, positionals } = parse(rest, { json: { type: 'boolean' }, ips: { type: 'string' } });
        if (values.help) return void console.log(HELP.audit), 0;
        if (positionals.length) throw new UsageError(`audit: unexpected argument "${positionals[0]}"`);
        const config = loadConfig();
        if (!existsSync(config.dbPath)) throw new Failure(`audit: no database at ${config.dbPath} (set HUSH_DB)`);
        let ips: string[] = [];
        if (values.ips !== undefined) {
          const file = String(values.ips);
          if (!existsSync(file)) throw new UsageError(`audit: --ips ${file}: no such file`);
          ips = readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
          const bad = ips.find((ip) => !ipaddr.isValid(ip));
          if (bad !== undefined) throw new UsageError(`audit: --ips: line "${bad.slice(0, 60)}" is not an IP address`);
        }
        const { audit, formatReport } = await import('../privacy/audit.ts');
        const report = audit(config.dbPath, { ips, kFloor: config.kFloor });
        console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
        return report.clean ? 0 : 1;
      }
      case 'backup': {
        const { values, positionals } = parse(rest, {});
        if (values.help) return void console.log(HELP.backup), 0;
        if (positionals.length !== 1) throw new UsageError(positionals.length ? `backup: unexpected argument "${positionals[1]}"` : 'backup: missing <file>');
        const { backupDatabase, BackupError } = await import('../ops/backup.ts');
        const config = loadConfig();
        try {
          const r = backupDatabase(config.dbPath, positionals[0]);
          console.log(`Backed up ${config.dbPath} to ${r.file}: ${(r.bytes / 1_048_576).toFixed(1)} MB (${r.bytes} bytes) in ${(r.ms / 1000).toFixed(2)} s. Daily keys left out.`);
        } catch (e) {
          if (e instanceof BackupError) throw new Failure(`backup: ${e.message}`);
          throw e;
        }
        return 0;
      }
      case 'retention': {
        const { values, positionals } = parse(rest, { 'dry-run': { type: 'boolean' } });
        if (values.help) return void console.log(HELP.retention), 0;
        if (positionals.length) throw new UsageError(`retention: unexpected argument "${positionals[0]}"`);
        const dry = values['dry-run'] === true;
        const results = withDb(({ sqlite }) => enforceRetention(sqlite, Date.now(), dry));
        if (results.length === 0) console.log('No sites.');
        for (const r of results) {
          console.log(`${r.domain}: ${dry ? 'would delete' : 'deleted'} ${r.events} events, ${r.visits} visits, ${r.rollups} rollup rows and ${r.strings} unused values before ${new Date(r.cutoff).toISOString()}`);
        }
        return 0;
      }
      case 'user': {
        const { USER_HELP, userCommand } = await import('./user-command.ts');
        const [sub, ...args] = rest;
        if (!sub || sub === '--help' || sub === '-h') return void console.log(USER_HELP), 0;
        const { values, positionals } = parse(args, {
          admin: { type: 'boolean' }, site: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' },
        });
        if (values.help) return void console.log(USER_HELP), 0;
        await userCommand(sub, positionals, values);
        return 0;
      }
      case 'goal': {
        const { REPORT_HELP, goalCommand } = await import('./report-commands.ts');
        const [sub, ...args] = rest;
        if (!sub || sub === '--help' || sub === '-h') return void console.log(REPORT_HELP.goal), 0;
        const { values, positionals } = parse(args, { site: { type: 'string' }, event: { type: 'string' }, page: { type: 'string' }, name: { type: 'string' } });
        if (values.help) return void console.log(REPORT_HELP.goal), 0;
        if (positionals.length) throw new UsageError(`goal ${sub}: unexpected argument "${positionals[0]}"`);
        goalCommand(sub, values);
        return 0;
      }
      case 'funnel': {
        const { FUNNEL_HELP, FUNNEL_OPTIONS, funnelCommand } = await import('./funnel-command.ts');
        const [sub, ...args] = rest;
        if (!sub || sub === '--help' || sub === '-h') return void console.log(FUNNEL_HELP), 0;
        const { values, positionals } = parse(args, FUNNEL_OPTIONS);
        if (values.help) return void console.log(FUNNEL_HELP), 0;
        if (positionals.length) throw new UsageError(`funnel ${sub}: unexpected argument "${positionals[0]}"`);
        funnelCommand(sub, values);
        return 0;
      }
      case 'export': {
        const { REPORT_HELP, exportCommand } = await import('./report-commands.ts');
        const { values, positionals } = parse(rest, { site: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } });
        if (values.help) return void console.log(REPORT_HELP.export), 0;
        if (positionals.length) throw new UsageError(`export: unexpected argument "${positionals[0]}"`);
        await exportCommand(values);
        return 0;
      }
      case 'report': {
        const { REPORT_SEND_HELP, reportCommand } = await import('../email/cli.ts');
        const [sub, ...args] = rest;
        if (!sub || sub === '--help' || sub === '-h') return void console.log(REPORT_SEND_HELP), 0;
        const { values, positionals } = parse(args, { site: { type: 'string' }, to: { type: 'string' }, period: { type: 'string' } });
        if (values.help) return void console.log(REPORT_SEND_HELP), 0;
        await reportCommand(sub, values, positionals);
        return 0;
      }
      case 'demo': {
        const { REPORT_HELP, demoCommand } = await import('./report-commands.ts');
        const { values, positionals } = parse(rest, { days: { type: 'string' }, visits: { type: 'string' }, timezone: { type: 'string' }, reset: { type: 'boolean' } });
        if (values.help) return void console.log(REPORT_HELP.demo), 0;
        if (positionals.length) throw new UsageError(`demo: unexpected argument "${positionals[0]}"`);
        await demoCommand(values);
        return 0;
      }
      case 'import': {
        const { values, positionals } = parse(rest, {
          site: { type: 'string' }, format: { type: 'string' }, timezone: { type: 'string' }, pages: { type: 'string' },
          assets: { type: 'string' }, follow: { type: 'boolean' }, 'dry-run': { type: 'boolean' },
        });
        if (values.help) return void console.log(IMPORT_HELP), 0;
        return await importCommand(values, positionals);
      }
      case 'import-plausible': {
        const { PLAUSIBLE_HELP, plausibleCommand } = await import('./plausible-command.ts');
        const { values, positionals } = parse(rest, {
          site: { type: 'string' }, list: { type: 'boolean' }, remove: { type: 'boolean' }, id: { type: 'string' }, 'dry-run': { type: 'boolean' },
        });
        if (values.help) return void console.log(PLAUSIBLE_HELP), 0;
        return plausibleCommand(values, positionals);
      }
      default: throw new UsageError(`unknown command "${cmd}" (run 'hush --help')`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof ImportUsageError) {
      console.error(`hush: ${e.message}`);
      return 2;
    }
    if (e instanceof Failure || e instanceof ConfigError || e instanceof ImportError) {
      console.error(`hush: ${e.message}`);
      return 1;
    }
    console.error(`hush: ${(e as Error).message}`);
    return 1;
  }
}
