// `hush import-plausible`: import, list and remove Plausible exports (src/import/plausible.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { openDb } from '../store/db.ts';
import { SiteRepo, normalizeDomain } from '../store/sites.ts';
import { importPlausible, listImports, removeImports, PlausibleImportError, ZipError, type ImportResult } from '../import/plausible.ts';
import { dayDate } from '../reports/time-zone.ts';
import { UsageError, Failure } from './errors.ts';

export const PLAUSIBLE_HELP = `Usage: hush import-plausible <export.zip> --site <domain> [--dry-run]
       hush import-plausible --list --site <domain>
       hush import-plausible --remove --site <domain> [--id N]

Imports the ZIP of Plausible's CSV export (Site settings → Imports & Exports → Export) as daily
aggregates: visitors, pages, entry and exit pages, sources and UTM tags, countries, devices,
browsers, operating systems and custom events, per day. The dashboard and the Stats API add them
to the site's own data for the days before its first event, shown as imported. Dates are taken
as days of the site's time zone. Nothing about a single visitor is in such an export; rows whose
values look like an IP or e-mail address are skipped. Days past the site's retention are not
imported. An import is written whole or not at all.
  --dry-run   read and check the export, print what would be imported, write nothing
  --list      the site's imports (id, days, rows)
  --remove    delete the site's imported data (every import, or the one given with --id)`;

type Values = Record<string, string | boolean | undefined>;

const n = (x: number) => x.toLocaleString('en-US');

function report(domain: string, r: ImportResult, dry: boolean): void {
  const days = r.toDay - r.fromDay + 1;
  console.log(`${dry ? 'Would import' : 'Imported'} Plausible data for ${domain}: ${dayDate(r.fromDay)} – ${dayDate(r.toDay)} (${n(days)} days), ${n(r.rows)} aggregate rows${r.importId !== null ? ` (import ${r.importId})` : ''}.`);
  console.log(`  Read: ${Object.entries(r.tables).map(([t, s]) => `${t} ${n(s.rows)}`).join(', ')} rows.`);
  const skipped = Object.entries(r.tables).filter(([, s]) => s.skipped > 0);
  if (skipped.length) {
    console.log(`  Skipped ${n(skipped.reduce((a, [, s]) => a + s.skipped, 0))} rows whose values looked like an IP or e-mail address (${skipped.map(([t, s]) => `${t} ${n(s.skipped)}`).join(', ')}).`);
  }
  if (r.pastRetention) console.log(`  Left out ${n(r.pastRetention)} days older than the site's retention.`);
  if (r.firstNativeDay !== null) {
    console.log(`  Hush has counted this site since ${dayDate(r.firstNativeDay)}: reports add imported data for the days before that only${r.overlapping ? ` (${n(r.overlapping)} imported days from then on are not shown)` : ''}.`);
  }
  if (!dry) console.log(`Remove it with: hush import-plausible --remove --site ${domain}${r.importId !== null ? ` --id ${r.importId}` : ''}`);
}

export function plausibleCommand(values: Values, positionals: string[]): number {
  const raw = values.site;
  if (typeof raw !== 'string' || !raw) throw new UsageError('import-plausible: missing --site <domain>');
  const domain = normalizeDomain(raw);
  if (!domain) throw new UsageError(`import-plausible: "${raw}" is not a domain name (e.g. example.com)`);
  const modes = [values.list, values.remove, positionals.length > 0].filter(Boolean).length;
  if (modes === 0) throw new UsageError('import-plausible: missing <export.zip> (or --list, --remove)');
  if (modes > 1) throw new UsageError('import-plausible: give either <export.zip>, --list or --remove');
  if (positionals.length > 1) throw new UsageError(`import-plausible: one ZIP at a time (got ${positionals.length} files)`);
  let id: number | undefined;
  if (values.id !== undefined) {
    if (!values.remove) throw new UsageError('import-plausible: --id goes with --remove');
    id = Number(values.id);
    if (!Number.isInteger(id) || id < 1) throw new UsageError(`import-plausible: --id must be an import number (see --list), got "${values.id}"`);
  }
  if (values['dry-run'] && positionals.length === 0) throw new UsageError('import-plausible: --dry-run goes with <export.zip>');
  const file = positionals[0];
  if (file !== undefined && !existsSync(file)) throw new Failure(`import-plausible: ${file}: no such file`);

  const config = loadConfig();
  const store = openDb(config.dbPath, { synchronous: config.synchronous });
  try {
    const site = new SiteRepo(store.db).byDomain(domain);
    if (!site) throw new Failure(`import-plausible: no site ${domain} (add it first: hush site add ${domain})`);
    if (values.list) {
      const list = listImports(store.sqlite, site.id);
      if (!list.length) console.log(`${domain} has no imported data.`);
      for (const i of list) {
        console.log(`import ${i.id}\t${i.source}\t${dayDate(i.fromDay)} – ${dayDate(i.toDay)}\t${n(i.rows)} rows\timported ${new Date(i.createdAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
      }
      return 0;
    }
    if (values.remove) {
      const r = removeImports(store.sqlite, site.id, id);
      if (id !== undefined && r.imports === 0) throw new Failure(`import-plausible: ${domain} has no import ${id} (see --list)`);
      console.log(r.imports ? `Removed ${r.imports === 1 ? 'one import' : `${r.imports} imports`} of ${domain}: ${n(r.rows)} aggregate rows.` : `${domain} has no imported data; nothing removed.`);
      return 0;
    }
    try {
      const r = importPlausible(store.sqlite, file!, {
        siteId: site.id, domain, timezone: site.timezone, retentionDays: site.retentionDays, now: Date.now(), dryRun: values['dry-run'] === true,
      });
      report(domain, r, values['dry-run'] === true);
    } catch (e) {
      if (e instanceof PlausibleImportError || e instanceof ZipError) {
        throw new Failure(`import-plausible: ${e.message.replaceAll(file!, path.basename(file!))}; nothing was imported`);
      }
      throw e;
    }
    return 0;
  } finally {
    store.close();
  }
}
