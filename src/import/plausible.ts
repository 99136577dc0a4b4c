// `hush import-plausible`: Plausible's CSV export (the ZIP its site settings' "Export" gives) into
// imported daily aggregates (imported_stats), which reports add to a site's own data for the days
// before its first native event (src/reports/imported.ts).
//
// The layout is Plausible's own: lib/plausible/exports.ex (plausible/analytics) writes one CSV per
// table with ClickHouse's CSVWithNames, named imported_<table>_<YYYYMMDD>_<YYYYMMDD>.csv, and
// lib/plausible/imported/csv_importer.ex reads them back by column name (so column order varies
// between versions, and older exports lack some columns). The tables and columns read here:
//   visitors            date, visitors, pageviews, bounces, visits, visit_duration
//   sources             date, source, referrer, utm_source, utm_medium, utm_campaign, utm_content,
//                       utm_term, pageviews, visitors, visits, visit_duration, bounces
//   pages               date, hostname, page, visits, visitors, pageviews, total_time_on_page,
//                       total_time_on_page_visits (scroll depth columns are ignored)
//   entry_pages         date, entry_page, visitors, entrances, visit_duration, bounces, pageviews
//   exit_pages          date, exit_page, visitors, visit_duration, exits, bounces, pageviews
//   custom_events       date, name, link_url, path, visitors, events
//   locations           date, country, region, city, visitors, visits, visit_duration, bounces, pageviews
//   devices             date, device, visitors, visits, visit_duration, bounces, pageviews
//   browsers            date, browser, browser_version, visitors, visits, visit_duration, bounces, pageviews
//   operating_systems   date, operating_system, operating_system_version, visitors, visits,
//                       visit_duration, bounces, pageviews
// visit_duration is a sum of seconds over the visits; visitors are per day (summed over days, as
// Plausible and Hush both do). Unknown columns are ignored, as Plausible's importer ignores them.
//
// Each row becomes rows of Hush's daily rollup shape (dimension code, value, the twelve base sums
// of src/reports/metrics.ts). Values are mapped to Hush's vocabulary where the two differ (device
// classes, browser and OS names, major versions, "Direct / None"). A row with a value that looks
// like an IP address, an e-mail address or a user-agent is not imported (counted and reported).
// Parsing fills a private temporary table; the import itself is one transaction, so an import is
// written whole or not at all.
import type Database from 'better-sqlite3';
import { ZipError, ZipReader, type ZipLimits } from './zip-reader.ts';
import { acquisition, bareHost } from '../collector/referrer.ts';
import { scrub } from '../privacy/personal-data.ts';
import { dayDate, dayNumber, localDayNumber } from '../reports/time-zone.ts';
import { retentionCutoff } from '../privacy/retention.ts';
import { BASE } from '../reports/metrics.ts';

export class PlausibleImportError extends Error {}

const DIM = {
  site: 0, page: 1, hostname: 2, name: 3, entry: 5, exit: 6, source: 7, channel: 8, referrer: 9,
  utmSource: 10, utmMedium: 11, utmCampaign: 12, utmContent: 13, utmTerm: 14, country: 15,
  browser: 16, browserVersion: 17, os: 18, osVersion: 19, device: 20,
} as const;

type Cells = (col: string) => string;
type Num = (col: string) => number;
/** [visitors, visits, pageviews, events, bounces, duration_ms, visit_pageviews, bytes, load_ms, load_n, engaged_ms, engaged_visits] */
type Sums = number[];
type Emit = (dim: number, value: string | null, sums: Sums) => void;

/** The base sums of a row of visit-level counts (sources, entry pages, locations, devices, …). */
const visitSums = (visitors: number, visits: number, pageviews: number, bounces: number, durationS: number): Sums =>
  [visitors, visits, pageviews, pageviews, bounces, durationS * 1000, pageviews, 0, 0, 0, 0, 0];

interface Table {
  required: string[];
  row(s: Cells, n: Num, emit: Emit, ctx: { domain: string }): void;
}

const TABLES: Record<string, Table> = {
  visitors: {
    required: ['date', 'visitors', 'pageviews', 'bounces', 'visits', 'visit_duration'],
    row(s, n, emit) {
      const sums = visitSums(n('visitors'), n('visits'), n('pageviews'), n('bounces'), n('visit_duration'));
      emit(DIM.site, null, sums);
      // Page views are an event name in Hush's events report.
      if (sums[2] > 0) emit(DIM.name, 'pageview', sums);
    },
  },
  sources: {
    required: ['date', 'source', 'visitors', 'visits', 'visit_duration', 'bounces'],
    row(s, n, emit, ctx) {
      const sums = visitSums(n('visitors'), n('visits'), n('pageviews'), n('bounces'), n('visit_duration'));
      const source = s('source');
      const referrer = referrerOf(s('referrer'));
      const utm = { source: s('utm_source') || null, medium: s('utm_medium') || null, campaign: s('utm_campaign') || null, content: s('utm_content') || null, term: s('utm_term') || null };
      emit(DIM.source, source || 'Direct / None', sums);
      emit(DIM.channel, acquisition(referrer ? `https://${referrer}` : null, ctx.domain, utm, source || null).channel, sums);
      emit(DIM.referrer, referrer, sums);
      emit(DIM.utmSource, utm.source, sums);
      emit(DIM.utmMedium, utm.medium, sums);
      emit(DIM.utmCampaign, utm.campaign, sums);
      emit(DIM.utmContent, utm.content, sums);
      emit(DIM.utmTerm, utm.term, sums);
    },
  },
  pages: {
    required: ['date', 'hostname', 'page', 'visitors', 'pageviews'],
    row(s, n, emit) {
      const pv = n('pageviews');
      // Engaged time, where the export has it (total_time_on_page is in seconds).
      const sums: Sums = [n('visitors'), n('visits'), pv, pv, 0, 0, 0, 0, 0, 0, n('total_time_on_page') * 1000, n('total_time_on_page_visits')];
      emit(DIM.page, s('page') || null, sums);
      emit(DIM.hostname, s('hostname').toLowerCase() || null, sums);
    },
  },
  entry_pages: {
    required: ['date', 'entry_page', 'visitors', 'entrances', 'visit_duration', 'bounces'],
    row(s, n, emit) {
      emit(DIM.entry, s('entry_page') || null, visitSums(n('visitors'), n('entrances'), n('pageviews'), n('bounces'), n('visit_duration')));
    },
  },
  exit_pages: {
    required: ['date', 'exit_page', 'visitors', 'exits'],
    row(s, n, emit) {
      emit(DIM.exit, s('exit_page') || null, visitSums(n('visitors'), n('exits'), n('pageviews'), n('bounces'), n('visit_duration')));
    },
  },
  custom_events: {
    required: ['date', 'name', 'visitors', 'events'],
    row(s, n, emit) {
      const name = s('name');
      // Engagement (and the older pageleave) events are time-on-page bookkeeping, not events.
      if (!name || name === 'pageview' || name === 'engagement' || name === 'pageleave') return;
      const events = n('events');
      emit(DIM.name, name, [n('visitors'), 0, 0, events, 0, 0, 0, 0, 0, 0, 0, 0]);
      // The site's total events are page views plus these.
      emit(DIM.site, null, [0, 0, 0, events, 0, 0, 0, 0, 0, 0, 0, 0]);
    },
  },
  locations: {
    required: ['date', 'country', 'visitors', 'visits', 'visit_duration', 'bounces'],
    row(s, n, emit) {
      const c = s('country').toUpperCase();
      // Regions and cities are not kept: Hush stores countries only.
      emit(DIM.country, /^[A-Z]{2}$/.test(c) && c !== 'ZZ' ? c : null, visitSums(n('visitors'), n('visits'), n('pageviews'), n('bounces'), n('visit_duration')));
    },
  },
  devices: {
    required: ['date', 'device', 'visitors', 'visits', 'visit_duration', 'bounces'],
    row(s, n, emit) {
      emit(DIM.device, DEVICES[s('device').toLowerCase()] ?? null, visitSums(n('visitors'), n('visits'), n('pageviews'), n('bounces'), n('visit_duration')));
    },
  },
  browsers: {
    required: ['date', 'browser', 'visitors', 'visits', 'visit_duration', 'bounces'],
    row(s, n, emit) {
      const sums = visitSums(n('visitors'), n('visits'), n('pageviews'), n('bounces'), n('visit_duration'));
      const b = known(s('browser'));
      emit(DIM.browser, b && (BROWSERS[b] ?? b), sums);
      emit(DIM.browserVersion, major(s('browser_version'), false), sums);
    },
  },
  operating_systems: {
    required: ['date', 'operating_system', 'visitors', 'visits', 'visit_duration', 'bounces'],
    row(s, n, emit) {
      const sums = visitSums(n('visitors'), n('visits'), n('pageviews'), n('bounces'), n('visit_duration'));
      const raw = known(s('operating_system'));
      const os = raw && (SYSTEMS[raw] ?? raw);
      emit(DIM.os, os, sums);
      emit(DIM.osVersion, major(s('operating_system_version'), os === 'macOS'), sums);
    },
  },
};

export const PLAUSIBLE_TABLES = Object.keys(TABLES);

// Plausible's names (UAInspector, screen-size classes) → Hush's (ua-parser-js, src/collector/user-agent.ts).
const DEVICES: Record<string, string> = { desktop: 'desktop', laptop: 'desktop', mobile: 'mobile', tablet: 'tablet', tv: 'tv' };
const BROWSERS: Record<string, string> = { 'Samsung Internet': 'Samsung Browser', 'Internet Explorer': 'IE', 'Microsoft Edge': 'Edge' };
const SYSTEMS: Record<string, string> = { Mac: 'macOS', 'Mac OS': 'macOS', 'GNU/Linux': 'Linux', 'Chrome OS': 'ChromeOS' };
const known = (v: string) => (v === '' || v === '(not set)' ? null : v);

function major(v: string, twoParts: boolean): string | null {
  const x = known(v);
  if (!x || !/^\d/.test(x)) return null;
  const parts = x.split('.');
  return twoParts && parts[0] === '10' && parts.length > 1 ? `${parts[0]}.${parts[1]}` : parts[0];
}

/** Plausible's referrer ("news.ycombinator.com/item", or a URL) as Hush keeps it: host without www. and path ("google.com/"). */
function referrerOf(raw: string): string | null {
  const v = raw.trim();
  if (!v) return null;
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `https://${v}`);
    const host = bareHost(u.hostname.toLowerCase());
    return host ? host + u.pathname : null;
  } catch {
    return v.split('?')[0];
  }
}

// ---- CSV (RFC 4180, as ClickHouse's CSVWithNames writes it) ----

/** Records of a CSV text with the line each starts on; blank lines are skipped. */
export function* csvRecords(text: string, file: string): Generator<{ line: number; cells: string[] }> {
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < n) {
    const start = line;
    const cells: string[] = [];
    for (;;) {
      if (text.charCodeAt(i) === 34) {
        let j = i + 1, val = '';
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) throw new PlausibleImportError(`${file}, line ${start}: a quoted cell is never closed`);
          val += text.slice(j, q);
          if (text.charCodeAt(q + 1) === 34) { val += '"'; j = q + 2; continue; }
          i = q + 1;
          break;
        }
        for (let k = val.indexOf('\n'); k >= 0; k = val.indexOf('\n', k + 1)) line++;
        cells.push(val);
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === 44 || c === 10 || c === 13) break;
          j++;
        }
        cells.push(text.slice(i, j));
        i = j;
      }
      const c = text.charCodeAt(i);
      if (c === 44) { i++; continue; }
      if (c === 13) { i++; if (text.charCodeAt(i) === 10) i++; line++; break; }
      if (c === 10) { i++; line++; break; }
      if (i >= n) break;
      throw new PlausibleImportError(`${file}, line ${line}: unexpected text after a quoted cell`);
    }
    if (cells.length === 1 && cells[0] === '') continue;
    yield { line: start, cells };
  }
}

// ---- The import ----

export interface ImportOptions {
  siteId: number;
  domain: string;
  timezone: string;
  retentionDays: number;
  now: number;
  dryRun?: boolean;
  limits?: Partial<ZipLimits>;
}

export interface ImportResult {
  importId: number | null;
  fromDay: number;
  toDay: number;
  /** Rows of each table read, and rows skipped because a value looked like personal data. */
  tables: Record<string, { rows: number; skipped: number }>;
  rows: number;
  /** Days before the site's retention (not imported). */
  pastRetention: number;
  /** Imported days on or after the site's first native event: reports show Hush's data for them. */
  overlapping: number;
  firstNativeDay: number | null;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const NUMBER = /^\d{1,15}(\.\d+)?$/;
const ENTRY = new RegExp(`^(?:imported_)?(${PLAUSIBLE_TABLES.join('|')})(?:_(\\d{8})_(\\d{8}))?\\.csv$`);

/** The table an entry name holds (Plausible's name, or without the `imported_` prefix), or null. */
export function tableOf(entryName: string): string | null {
  const base = entryName.split('/').pop()!;
  return ENTRY.exec(base)?.[1] ?? null;
}

const COLS = BASE.join(', ');

/**
 * Reads a Plausible export ZIP and writes its aggregates for a site in one transaction. Throws
 * PlausibleImportError (or ZipError) naming the file, line and column of anything it cannot use;
 * then nothing is written.
 */
export function importPlausible(sqlite: Database.Database, zipPath: string, opts: ImportOptions): ImportResult {
  const zip = ZipReader.open(zipPath, opts.limits);
  const tmp = `temp.plausible_import_${process.pid}`;
  try {
    const found = new Map<string, (typeof zip.entries)[number]>();
    for (const e of zip.entries) {
      if (e.name.endsWith('/') || e.name.startsWith('__MACOSX/') || e.name.split('/').pop()!.startsWith('.')) continue;
      const t = tableOf(e.name);
      if (!t) continue;
      if (found.has(t)) throw new PlausibleImportError(`${zipPath}: two files hold Plausible's ${t} table ("${found.get(t)!.name}" and "${e.name}")`);
      found.set(t, e);
    }
    const missing = PLAUSIBLE_TABLES.filter((t) => !found.has(t));
    if (missing.length === PLAUSIBLE_TABLES.length) {
      throw new PlausibleImportError(`${zipPath}: no Plausible export files in this ZIP (expected imported_visitors_YYYYMMDD_YYYYMMDD.csv and the other tables of Plausible's "Export")`);
    }
    if (missing.length) throw new PlausibleImportError(`${zipPath}: missing ${missing.map((t) => `imported_${t}_….csv`).join(', ')} (a Plausible export has all ${PLAUSIBLE_TABLES.length} tables)`);

    const retentionDay = localDayNumber(retentionCutoff(opts.now, opts.retentionDays, opts.timezone), opts.timezone);
    const today = localDayNumber(opts.now, opts.timezone);
    sqlite.exec(`DROP TABLE IF EXISTS ${tmp}; CREATE TABLE ${tmp} (day INTEGER NOT NULL, dim INTEGER NOT NULL, value TEXT, ${BASE.map((b) => `${b} INTEGER NOT NULL`).join(', ')})`);
    const ins = sqlite.prepare(`INSERT INTO ${tmp} (day, dim, value, ${COLS}) VALUES (?, ?, ?, ${BASE.map(() => '?').join(', ')})`);
    const tables: ImportResult['tables'] = {};
    let fromDay = Infinity, toDay = -Infinity;
    const pastDays = new Set<number>();
    const personal = new Map<string, boolean>();
    const looksPersonal = (v: string) => {
      let p = personal.get(v);
      if (p === undefined) {
        p = scrub(v) !== v;
        if (personal.size < 200_000) personal.set(v, p);
      }
      return p;
    };

    const days = new Map<string, number>();
    const dayOf = (text: string, file: string, line: number): number => {
      let day = days.get(text);
      if (day === undefined) {
        const dm = DATE.exec(text);
        day = dm ? dayNumber(+dm[1], +dm[2], +dm[3]) : NaN;
        if (!dm || dayDate(day) !== dm[0]) throw new PlausibleImportError(`${file}, line ${line}, column date: ${JSON.stringify(text.slice(0, 40))} is not a date (YYYY-MM-DD)`);
        if (day > today) throw new PlausibleImportError(`${file}, line ${line}: ${dm[0]} is in the future`);
        days.set(text, day);
      }
      return day;
    };
    // Rows are summed per day in memory (Plausible writes each table in date order) and each
    // day's sums go to the temporary table at once; a day seen twice is summed again below.
    const pending = new Map<string, { dim: number; value: string | null; sums: Sums }>();
    let pendingDay = NaN;
    const flush = () => {
      for (const p of pending.values()) ins.run(pendingDay, p.dim, p.value, ...p.sums);
      pending.clear();
    };
    // Parse every table into the temporary table (private to this connection: no lock on the database).
    sqlite.transaction(() => {
      for (const t of PLAUSIBLE_TABLES) {
        const entry = found.get(t)!;
        const file = entry.name;
        const text = zip.read(entry).toString('utf8');
        const stats = { rows: 0, skipped: 0 };
        tables[t] = stats;
        let header: string[] | null = null;
        let index = new Map<string, number>();
        // The current record, read by the table's row function through s() and n() (made once
        // per table, not per row: a file may have millions of rows).
        let cells: string[] = [];
        let line = 0;
        const s: Cells = (col) => {
          const i = index.get(col);
          if (i === undefined) return '';
          const v = cells[i];
          return v === '\\N' ? '' : v;
        };
        const n: Num = (col) => {
          const v = s(col).trim();
          if (v === '') return 0;
          if (!NUMBER.test(v)) throw new PlausibleImportError(`${file}, line ${line}, column ${col}: ${JSON.stringify(v.slice(0, 40))} is not a count`);
          return Math.round(Number(v));
        };
        let out: Array<[number, string | null, Sums]> = [];
        let skip = false;
        const emit: Emit = (dim, value, sums) => {
          const v = value === null ? null : value.slice(0, 2000);
          if (v !== null && looksPersonal(v)) skip = true;
          out.push([dim, v, sums]);
        };
        const ctx = { domain: opts.domain };
        for (const rec of csvRecords(text, file)) {
          cells = rec.cells;
          line = rec.line;
          if (!header) {
            header = cells.map((c) => c.trim().toLowerCase());
            index = new Map(header.map((h, i) => [h, i]));
            if (index.size !== header.length) throw new PlausibleImportError(`${file}: a column is named twice in the header`);
            const lacking = TABLES[t].required.filter((c) => !index.has(c));
            if (lacking.length) {
              throw new PlausibleImportError(`${file}: missing column${lacking.length > 1 ? 's' : ''} ${lacking.join(', ')} (header: ${header.slice(0, 20).join(',').slice(0, 300)})`);
            }
            continue;
          }
          if (cells.length !== header.length) throw new PlausibleImportError(`${file}, line ${line}: ${cells.length} cells, the header has ${header.length}`);
          const day = dayOf(s('date').trim(), file, line);
          out = [];
          skip = false;
          TABLES[t].row(s, n, emit, ctx);
          if (skip) { stats.skipped++; continue; }
          stats.rows++;
          if (day < retentionDay) { pastDays.add(day); continue; }
          if (day < fromDay) fromDay = day;
          if (day > toDay) toDay = day;
          if (day !== pendingDay) flush();
          pendingDay = day;
          for (const [dim, value, sums] of out) {
            const k = `${dim}\u0001${value ?? '\u0002'}`;
            const have = pending.get(k);
            if (!have) pending.set(k, { dim, value, sums: [...sums] });
            else for (let i = 0; i < sums.length; i++) have.sums[i] += sums[i];
          }
        }
        flush();
        if (!header) throw new PlausibleImportError(`${file}: empty (no header line)`);
      }
    })();
    if (fromDay === Infinity) {
      throw new PlausibleImportError(pastDays.size
        ? `${zipPath}: every day in the export is older than the site's retention (${opts.retentionDays} days): nothing to import`
        : `${zipPath}: the export holds no data (imported_visitors has no rows)`);
    }

    const firstTs = (sqlite.prepare('SELECT min(ts) FROM events WHERE site_id = ?').pluck().get(opts.siteId) as number | null);
    const firstNativeDay = firstTs === null ? null : localDayNumber(firstTs, opts.timezone);
    const overlapping = firstNativeDay === null ? 0
      : (sqlite.prepare(`SELECT count(DISTINCT day) FROM ${tmp} WHERE day >= ?`).pluck().get(firstNativeDay) as number);
    const result: ImportResult = { importId: null, fromDay, toDay, tables, rows: 0, pastRetention: pastDays.size, overlapping, firstNativeDay };
    const group = `SELECT day, dim, value, ${BASE.map((b) => `sum(${b})`).join(', ')} FROM ${tmp} GROUP BY day, dim, value`;
    if (opts.dryRun) {
      result.rows = sqlite.prepare(`SELECT count(*) FROM (${group})`).pluck().get() as number;
      return result;
    }

    // The import: one transaction, so it is there whole or not at all.
    sqlite.transaction(() => {
      const clash = sqlite.prepare('SELECT id, from_day, to_day FROM imports WHERE site_id = ? AND from_day <= ? AND to_day >= ? ORDER BY from_day LIMIT 1')
        .get(opts.siteId, toDay, fromDay) as { id: number; from_day: number; to_day: number } | undefined;
      if (clash) {
        throw new PlausibleImportError(`${opts.domain} already has imported data for ${dayDate(clash.from_day)} – ${dayDate(clash.to_day)} (import ${clash.id}), which overlaps this export (${dayDate(fromDay)} – ${dayDate(toDay)}); remove it first: hush import-plausible --remove --site ${opts.domain}`);
      }
      const id = Number(sqlite.prepare('INSERT INTO imports (site_id, source, from_day, to_day, rows, created_at) VALUES (?, ?, ?, ?, 0, ?)')
        .run(opts.siteId, 'plausible', fromDay, toDay, opts.now).lastInsertRowid);
      const rows = sqlite.prepare(`INSERT INTO imported_stats (import_id, site_id, day, dim, value, ${COLS}) SELECT ?, ?, * FROM (${group})`)
        .run(id, opts.siteId).changes;
      sqlite.prepare('UPDATE imports SET rows = ? WHERE id = ?').run(rows, id);
      result.importId = id;
      result.rows = rows;
    }).immediate();
    return result;
  } finally {
    zip.close();
    try {
      sqlite.exec(`DROP TABLE IF EXISTS ${tmp}`);
    } catch {
      // the connection is closing anyway
    }
  }
}

export interface ImportRow {
  id: number;
  source: string;
  fromDay: number;
  toDay: number;
  rows: number;
  createdAt: number;
}

export function listImports(sqlite: Database.Database, siteId: number): ImportRow[] {
  return sqlite.prepare('SELECT id, source, from_day AS fromDay, to_day AS toDay, rows, created_at AS createdAt FROM imports WHERE site_id = ? ORDER BY from_day')
    .all(siteId) as ImportRow[];
}

/** Deletes one import (or every import of the site) in one transaction; returns the imports and rows removed. */
export function removeImports(sqlite: Database.Database, siteId: number, importId?: number): { imports: number; rows: number } {
  return sqlite.transaction(() => {
    const ids = (importId === undefined
      ? sqlite.prepare('SELECT id FROM imports WHERE site_id = ?').pluck().all(siteId)
      : sqlite.prepare('SELECT id FROM imports WHERE site_id = ? AND id = ?').pluck().all(siteId, importId)) as number[];
    let rows = 0;
    for (const id of ids) {
      rows += sqlite.prepare('DELETE FROM imported_stats WHERE site_id = ? AND import_id = ?').run(siteId, id).changes;
      sqlite.prepare('DELETE FROM imports WHERE id = ?').run(id);
    }
    return { imports: ids.length, rows };
  }).immediate();
}

export { ZipError };
