// `hush import`: feeds access logs through the collector's pipeline. Progress goes to stderr
// (a live line on a terminal, a line every 10 s otherwise); the summary to stdout. Exit code 0
// when every line was read, 3 when some were skipped as malformed.
import { loadConfig } from '../config.ts';
import { openDb } from '../store/db.ts';
import { SiteDirectory, SiteRepo, isTimeZone, normalizeDomain, pathMatcher } from '../store/sites.ts';
import { HitWriter } from '../store/hit-writer.ts';
import type { Hit } from '../collector/hit.ts';
import { WatermarkStore, type ImportStateRow } from '../import/watermark.ts';
import { retentionCutoff } from '../privacy/retention.ts';
import { sqliteKeyStore } from '../store/key-store.ts';
import { KeyRing, memoryKeyStore } from '../pseudonymize/daily-keys.ts';
import { AgentCache } from '../collector/user-agent.ts';
import { FORMATS, type FormatName } from '../import/formats.ts';
import { Importer, ImportError, type ImportSummary } from '../import/importer.ts';
import { followLines, readLines, type SourceProgress } from '../import/line-source.ts';
import { tuneHeapForImport } from '../import/heap-tuning.ts';
import { loadCountryTables } from '../pseudonymize/country-data.ts';
import { ImportMemo } from '../import/memo.ts';

export class ImportUsageError extends Error {}

export const IMPORT_HELP = `Usage: hush import <file…|-> --site <domain> [options]

Imports web server access logs through the same pseudonymisation as the script: addresses are
truncated before anything else, user-agents reduced to families, and nothing is counted twice
when a file (or an overlapping rotated one) is imported again.

Options:
  --site DOMAIN        the registered site the log belongs to (required)
  --format FORMAT      auto (default), combined, common, combined-vhost, common-vhost, nginx,
                       caddy, cloudfront, or custom:'PATTERN' with fields such as
                       $remote_addr $time_local $request $status $body_bytes_sent
                       $http_referer $http_user_agent $host $date $time $method $path $ignore
  --timezone TZ        time zone of timestamps that carry no offset (default UTC)
  --pages PATTERNS     paths that are pages whatever their extension, e.g. "/docs/**"
  --assets PATTERNS    paths that are never pages, e.g. "/api/**,/static/*"
  --follow             keep reading the file as it grows (through rotation) until stopped
  --dry-run            read and classify everything, write nothing

Files may be plain or gzipped; "-" reads standard input. Exit code: 0 done, 3 done but some
lines were malformed (the first few are shown, addresses masked), 1 error, 2 bad arguments.`;

const fmt = (n: number) => n.toLocaleString('en-US');

function summaryText(s: ImportSummary, ms: number): string {
  const skipped = Object.entries(s.skipped).filter(([, n]) => n).map(([k, n]) => `${k.replace(/_/g, ' ')} ${fmt(n!)}`).join(', ') || 'none';
  const lines = [
    `Read ${fmt(s.lines)} lines in ${(ms / 1000).toFixed(1)} s (${fmt(Math.round(s.lines / Math.max(ms, 1) * 1000))} lines/s)`,
    `  format:            ${s.formats.join('; ') || '-'}`,
    `  page views:        ${fmt(s.pageviews)}`,
    `  other requests:    ${fmt(s.requests)} (status and bytes only)`,
    `  skipped:           ${skipped}`,
  ];
  if (s.malformed.length) lines.push('  first malformed lines (addresses masked):', ...s.malformed.map((m) => `    ${m}`));
  return lines.join('\n');
}

export async function importCommand(values: Record<string, string | boolean | undefined>, files: string[]): Promise<number> {
  if (files.length === 0) throw new ImportUsageError('import: name at least one log file, or - for standard input');
  const domain = normalizeDomain(String(values.site ?? ''));
  if (!values.site || !domain) throw new ImportUsageError('import: --site <domain> is required (a site registered with hush site add)');
  const format = String(values.format ?? 'auto');
  if (format !== 'auto' && !format.startsWith('custom:') && !(FORMATS as readonly string[]).includes(format)) {
    throw new ImportUsageError(`import: unknown --format "${format}" (auto, ${FORMATS.join(', ')}, custom:'PATTERN')`);
  }
  const timezone = String(values.timezone ?? 'UTC');
  if (!isTimeZone(timezone)) throw new ImportUsageError(`import: --timezone "${timezone}" is not an IANA time zone`);
  const follow = values.follow === true;
  if (follow && (files.length !== 1 || files[0] === '-')) throw new ImportUsageError('import: --follow takes exactly one file');
  let rules;
  try {
    rules = { pages: pathMatcher(String(values.pages ?? '')), assets: pathMatcher(String(values.assets ?? '')) };
    if (format.startsWith('custom:')) (await import('../import/formats.ts')).customParser(format.slice(7), timezone);
  } catch (e) {
    throw new ImportUsageError(`import: ${(e as Error).message}`);
  }

  // Before the country tables load, the first garbage the tuned heap sees.
  tuneHeapForImport();
  const config = loadConfig();
  const store = openDb(config.dbPath, { synchronous: config.synchronous });
  try {
    const sites = new SiteRepo(store.db);
    const site = sites.byDomain(domain);
    if (!site) throw new ImportError(`import: no site ${domain} (add it with: hush site add ${domain})`);
    const dryRun = values['dry-run'] === true;
    const keys = new KeyRing(dryRun ? memoryKeyStore() : sqliteKeyStore(store.sqlite));
    // Batches commit on this thread: a writer thread overlapped parsing and writing for ~10 %
    // more lines/s but held a second heap and the batches in flight (~+80 MB peak RSS). Tried
    // again with hits packed (store/hit-codec.ts) and no drizzle in the thread: 239–250 vs
    // 142–152 MB peak RSS and ~+25 % CPU (300k lines, load 7–11), slower on a busy machine.
    const writer = new HitWriter(store.sqlite);
    const watermarks = new WatermarkStore(store.sqlite);
    const commit = store.sqlite.transaction((hits: Hit[], state: ImportStateRow, pruneTs: number) => {
      const results = hits.length ? writer.write(hits) : [];
      watermarks.saveRow(state);
      writer.prune(pruneTs);
      return results;
    });
    const countries = await loadCountryTables();
    const importer = new Importer({
      precision: config.precision, sites: new SiteDirectory(sites), agents: new AgentCache(),
      countries, keys, memo: new ImportMemo(countries),
    }, { siteId: site.id, domain, format: format as FormatName | 'auto', timezone, rules, dryRun, retainFrom: retentionCutoff(Date.now(), site.retentionDays, site.timezone) },
    dryRun ? null : async (hits, state, pruneTs) => commit(hits, state, pruneTs),
    watermarks.load(site.id));

    const started = Date.now();
    const progress: SourceProgress = { bytes: 0, total: null };
    const tty = process.stderr.isTTY;
    let lastPlain = started;
    const ticker = setInterval(() => {
      const s = importer.summary;
      const secs = (Date.now() - started) / 1000;
      const rate = s.lines / Math.max(secs, 0.001);
      const share = progress.total ? progress.bytes / progress.total : null;
      const eta = share && share > 0 ? Math.max(0, secs / share - secs) : null;
      const bar = share === null ? '' : `[${'#'.repeat(Math.round(share * 20)).padEnd(20, '.')}] ${(share * 100).toFixed(0)}% `;
      const text = `${bar}${fmt(s.lines)} lines, ${fmt(Math.round(rate))} lines/s${eta === null ? '' : `, ETA ${Math.ceil(eta)} s`}`;
      if (tty) process.stderr.write(`\r${text}\x1b[K`);
      else if (Date.now() - lastPlain >= 10_000) {
        lastPlain = Date.now();
        process.stderr.write(`${text}\n`);
      }
      if (follow) void importer.flush(); // lines trickle in: commit them within a couple of seconds
    }, tty ? 250 : 2000);

    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      for (const file of files) {
        progress.bytes = 0;
        progress.total = null;
        const lines = follow ? followLines(file, abort.signal) : readLines(file, progress);
        try {
          await importer.importLines(lines, file === '-' ? 'stdin' : file);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') throw new ImportError(`import: ${file}: no such file`);
          if (code === 'EISDIR' || code === 'EACCES') throw new ImportError(`import: ${file}: cannot read (${code})`);
          if ((e as Error).message?.includes('incorrect header check') || code === 'Z_DATA_ERROR') throw new ImportError(`import: ${file}: corrupt gzip data`);
          throw e;
        }
      }
    } finally {
      clearInterval(ticker);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await importer.drain();
      if (tty) process.stderr.write('\r\x1b[K');
    }
    // Keys of past log days go by the same rule as the server's: nothing older than yesterday.
    const deleted = keys.rotate(Date.now());
    console.log(summaryText(importer.summary, Date.now() - started));
    if (deleted > 0) console.log(`  daily keys of past days deleted after use: ${deleted}`);
    if (dryRun) console.log('  dry run: nothing was written');
    return importer.summary.skipped.malformed ? 3 : 0;
  } finally {
    store.close();
  }
}
