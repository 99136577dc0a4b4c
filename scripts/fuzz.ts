// npm run fuzz: the fuzz targets of test/fuzz/targets.ts with a big budget and a fresh seed
// (printed, so a failure can be replayed with HUSH_FUZZ_SEED). HUSH_FUZZ_RUNS sets the cases per
// HTTP target (default 3,000; the in-process targets run 10× as many).
import { startTarget, checkLogs, fuzzEventApi, fuzzPixel, fuzzStatsApi, fuzzDashboardUrl, fuzzLogParsers, fuzzMatchers, type FuzzResult } from '../test/fuzz/targets.ts';

const runs = Number(process.env.HUSH_FUZZ_RUNS ?? 3000);
const seed = Number(process.env.HUSH_FUZZ_SEED ?? Date.now() % 2 ** 31);
console.log(`fuzz: seed ${seed} (replay with HUSH_FUZZ_SEED=${seed}), ${runs} cases per HTTP target`);

const results: FuzzResult[] = [];
const started = performance.now();
let failed = false;
const report = (r: FuzzResult) => {
  results.push(r);
  console.log(`  ✔ ${r.name}: ${r.cases.toLocaleString('en-US')} cases, slowest ${r.slowestMs.toFixed(1)} ms`);
};
const attempt = async (name: string, fn: () => Promise<FuzzResult>) => {
  try {
    report(await fn());
  } catch (e) {
    failed = true;
    const cause = (e as Error).cause;
    console.log(`  ✘ ${name}\n${(e as Error).message}${cause ? `\nCause: ${cause instanceof Error ? cause.message : String(cause)}` : ''}`);
  }
};

const t = await startTarget();
try {
  const http = { runs, seed, budgetMs: 500 };
  await attempt('POST /api/event', () => fuzzEventApi(t, http));
  await attempt('GET /api/event.gif', () => fuzzPixel(t, http));
  await attempt('POST /api/v2/query', () => fuzzStatsApi(t, http));
  await attempt('dashboard URL state', () => fuzzDashboardUrl(t, http));
  try {
    checkLogs(t);
    console.log(`  ✔ server logs: ${t.logged.length} lines, no address, user-agent or internal error`);
  } catch (e) {
    failed = true;
    console.log(`  ✘ server logs: ${(e as Error).message}`);
  }
} finally {
  await t.close();
}
const local = { runs: runs * 10, seed, budgetMs: 50 };
await attempt('log line parsers and the mask', () => fuzzLogParsers(local));
await attempt('glob and regex compilers', () => fuzzMatchers(local));

const total = results.reduce((n, r) => n + r.cases, 0);
console.log(`fuzz: ${total.toLocaleString('en-US')} cases in ${((performance.now() - started) / 1000).toFixed(0)} s, ${failed ? 'FAILURES above' : 'no failures'}`);
process.exit(failed ? 1 : 0);
