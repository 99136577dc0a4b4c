// Fuzzing with a bounded budget inside `npm test` (a few hundred cases per target, fixed seeds so
// a failure reproduces); `npm run fuzz` runs the same targets with many more cases and new seeds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTarget, checkLogs, fuzzEventApi, fuzzPixel, fuzzStatsApi, fuzzDashboardUrl, fuzzLogParsers, fuzzMatchers, type Target } from './fuzz/targets.ts';

const RUNS = Number(process.env.HUSH_FUZZ_RUNS ?? 150);
const SEED = 20261129;
// Per request or call: generous, since tests run two files at a time on two cores. A
// backtracking pattern took seconds per request; a normal one takes a few milliseconds.
const opts = { runs: RUNS, seed: SEED, budgetMs: 1000 };

const http = suite('fuzz: every HTTP input (never a 5xx, a 4xx names the field, within budget, logs clean)');
let t: Target;
http.before(async () => { t = await startTarget(); });
http.after(async () => { await t?.close(); });

http('POST /api/event', async () => { assert.ok((await fuzzEventApi(t, opts)).cases > 0); });
http('GET /api/event.gif', async () => { assert.ok((await fuzzPixel(t, opts)).cases > 0); });
http('POST /api/v2/query', async () => { assert.ok((await fuzzStatsApi(t, opts)).cases > 0); });
http('dashboard URL state', async () => { assert.ok((await fuzzDashboardUrl(t, { ...opts, runs: Math.ceil(RUNS / 3) })).cases > 0); });
http('nothing logged holds an address, a user-agent or an internal error', () => { checkLogs(t); });

http.run();

const local = suite('fuzz: parsers and matchers (never throw, linear time)');
local('log line parsers and the mask', async () => { assert.ok((await fuzzLogParsers({ ...opts, runs: RUNS * 4, budgetMs: 100 })).cases > 0); });
local('glob and regex compilers', async () => { assert.ok((await fuzzMatchers({ ...opts, runs: RUNS * 4, budgetMs: 100 })).cases > 0); });
local.run();
