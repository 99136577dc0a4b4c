// The data files shipped in test/fixtures/ (sources and licences in test/fixtures/README.md), so
// that a fresh clone needs nothing beside it. Used by the tests and the benchmarks.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

/**
 * 10,000 real Apache combined-format access-log lines (May 2015), gzipped: elastic/examples,
 * `Common Data Formats/apache_logs/apache_logs`, Apache-2.0. Real client addresses on purpose.
 * `hush import` reads the .gz itself (gzip is detected by its magic bytes).
 */
export const APACHE_LOG_GZ = path.join(FIXTURES, 'apache_logs.gz');

let apacheText: string | undefined;
/** The whole Apache log, decompressed (once per process). */
export function apacheLog(): string {
  return (apacheText ??= gunzipSync(readFileSync(APACHE_LOG_GZ)).toString('utf8'));
}
