import { fillReportDb } from '/work/main/bench/report-data.ts';
import { audit, formatReport } from '/work/main/src/privacy/audit.ts';
import { rmSync } from 'node:fs';
const f = '/tmp/aud-small.db'; rmSync(f, { force: true });
fillReportDb(f, 200_000, Date.now());
console.log(formatReport(audit(f)));
