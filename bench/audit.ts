// hush audit on a 10,000,000-event database (50 sites, one with 2.5M events, as in PERF-NOTES),
// the same realistic data as the reports bench. Target: under 60 s. BENCH_AUDIT_EVENTS scales it.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fillReportDb } from './report-data.ts';
import { audit } from '../src/privacy/audit.ts';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 10_000_000);
const work = mkdtempSync(path.join(tmpdir(), 'hush-audit-bench-'));
try {
  const file = path.join(work, 'hush.db');
  const filled = fillReportDb(file, EVENTS, Date.now());
  const gen = filled.seconds;
  const size = statSync(file).size;
  const t1 = performance.now();
  const report = audit(file);
  const secs = (performance.now() - t1) / 1000;
  console.log(`\naudit: ${EVENTS.toLocaleString('en-US')} events (${(size / 2 ** 20).toFixed(0)} MiB database, generated in ${gen.toFixed(0)} s)`);
  console.log(`  hush audit: ${secs.toFixed(1)} s, ${report.clean ? 'clean' : `${report.findings.length} findings`} (target < 60 s)`);
  for (const f of report.findings) console.log(`    [${f.check}] ${f.where}: ${f.detail}`);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`  kept ${work}`);
}
