// Runs every test/*.test.ts file in its own process (uvu + tsx) and guards against the silent
// pass uvu gives a file that forgets `.run()`: each file must report tests, and must call
// `.run()` as often as it declares suites. Prints a final "N passed, N failed" line.
//
// No file can hang the run. Each runs in a process group of its own (with every server it
// starts), and the whole group is SIGKILLed, the file reported FAILED with its output so far:
//   - when it runs past HUSH_TEST_FILE_TIMEOUT_MS (default 240,000 ms);
//   - when it is still running HUSH_TEST_EXIT_GRACE_MS (default 20,000 ms) after uvu printed its
//     summary: a child process or an open handle is keeping it alive.
// SIGINT/SIGTERM/SIGHUP to the runner kill every running file's group before it exits.
//
// `node test/run.mjs [name…]` runs the files whose names contain one of the names.
// HUSH_TEST_DIR runs the *.test.ts files of another folder (test/runner.test.ts uses it).
//
// Longest first: each file's last duration is kept in node_modules/.cache/hush-test-times.json,
// and the files run in decreasing order of it (files never timed first), so that the run does not
// end with one long file on one worker while the other is idle. HUSH_TEST_PARALLEL files run at
// a time (default 3: many files wait on servers, browsers and timers; on a quiet 2-core machine
// the suite took 3 min 02 s with 3, 3 min 30 s with 2).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.env.HUSH_TEST_DIR ? path.resolve(process.env.HUSH_TEST_DIR) : here;
const only = process.argv.slice(2);
const TIMES = process.env.HUSH_TEST_DIR ? null : path.join(here, '../node_modules/.cache/hush-test-times.json');
// A fresh clone has no timings yet: test/file-times.json (a quiet run's, committed) orders its
// first run; files missing from both run first.
let times = {};
try {
  if (TIMES) times = JSON.parse(readFileSync(path.join(here, 'file-times.json'), 'utf8'));
} catch { /* none committed: alphabetical */ }
try {
  if (TIMES) times = { ...times, ...JSON.parse(readFileSync(TIMES, 'utf8')) };
} catch { /* first run, or unreadable */ }
const weight = (f) => (typeof times[f] === 'number' ? times[f] : Infinity);
const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort().sort((a, b) => weight(b) - weight(a));

function msEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${name} must be a positive number of milliseconds, not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}
const PARALLEL = (() => {
  const raw = process.env.HUSH_TEST_PARALLEL;
  if (raw === undefined || raw === '') return 3;
  if (!/^[1-9]\d?$/.test(raw)) {
    console.error(`HUSH_TEST_PARALLEL must be a whole number of test files from 1 to 99, not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return Number(raw);
})();
const TIMEOUT_MS = msEnv('HUSH_TEST_FILE_TIMEOUT_MS', 240_000);
const EXIT_GRACE_MS = msEnv('HUSH_TEST_EXIT_GRACE_MS', 20_000);
const secs = (ms) => `${Number((ms / 1000).toFixed(1))} s`;

/**
 * Every process below `pid` (Linux: from /proc's parent links; elsewhere none). A file may start
 * servers in a group of their own (test/helpers/edge-dev.ts detaches wrangler so stop() can kill it
 * and its workerd together): killing the file's group alone left those running when a file timed
 * out (its own cleanup never ran), two orphaned workerd processes after one timeout.
 */
function descendants(pid) {
  const children = new Map();
  let entries = [];
  try { entries = readdirSync('/proc'); } catch { return []; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(e));
    } catch { /* exited meanwhile */ }
  }
  const out = [];
  for (let i = 0, queue = [pid]; i < queue.length; i++) {
    for (const c of children.get(queue[i]) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** The test files running now: each is the leader of its own process group. */
const running = new Set();
function killGroup(child) {
  const below = descendants(child.pid); // read before the kill: orphans lose their parent link
  try {
    process.kill(-child.pid, 'SIGKILL'); // the file and everything it started in its group
  } catch {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  for (const pid of below) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* not a group leader, or gone */ }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}
process.on('exit', () => { for (const c of running) killGroup(c); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    const n = running.size;
    for (const c of running) killGroup(c);
    running.clear();
    console.log(`\n${sig}: stopped, ${n} running test file(s) killed`);
    process.exit(sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : 129);
  });
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, file)], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' }, detached: true,
    });
    running.add(child);
    let out = '', killedFor = '', graceTimer;
    const kill = (why) => {
      if (killedFor || child.exitCode !== null || child.signalCode !== null) return;
      killedFor = why;
      killGroup(child);
    };
    const timer = setTimeout(() => kill(`timed out after ${secs(TIMEOUT_MS)}`), TIMEOUT_MS);
    const onData = (d) => {
      out += d;
      if (!graceTimer && /Total:\s+\d+/.test(out)) {
        graceTimer = setTimeout(() => kill(`still running ${secs(EXIT_GRACE_MS)} after its tests finished: a child process or an open handle kept it alive`), EXIT_GRACE_MS);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => (out += `\n[runner] ${err.stack ?? err}\n`));
    child.on('exit', () => {
      running.delete(child);
      clearTimeout(timer);
      clearTimeout(graceTimer);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* nothing it started is left */ }
      // Should anything outside the group still hold the pipes, do not wait for it.
      setTimeout(() => { child.stdout.destroy(); child.stderr.destroy(); }, 2000).unref();
    });
    child.on('close', (code, signal) => resolve({ file, code, signal, out, killedFor, ms: Date.now() - started }));
  });
}

let passed = 0, failed = 0, skipped = 0;
const problems = [];
const queue = [...files];
async function worker() {
  for (let f = queue.shift(); f; f = queue.shift()) {
    const r = await runFile(f);
    const src = readFileSync(path.join(dir, f), 'utf8');
    const suites = (src.match(/\bsuite\(/g) || []).length;
    const runs = (src.match(/^\s*\w+\.run\(\);?\s*$/gm) || []).length;
    const total = Number(/Total:\s+(\d+)/.exec(r.out)?.[1] ?? 0);
    const ok = Number(/Passed:\s+(\d+)/.exec(r.out)?.[1] ?? 0);
    const skip = Number(/Skipped:\s+(\d+)/.exec(r.out)?.[1] ?? 0);
    const failedTests = Math.max(0, total - ok - skip);
    passed += ok; skipped += skip; failed += failedTests;
    // A failure of the file itself (not of one of its tests) counts once more.
    let why = '';
    if (r.killedFor) why = r.killedFor;
    else if (total === 0) why = 'no tests ran';
    else if (suites !== runs) why = `${suites} suites, ${runs} .run() calls`;
    else if (r.code !== 0 && failedTests === 0) why = `exited with ${r.code ?? r.signal} outside a test`;
    if (why) failed++;
    const verdict = why ? `FAILED (${why})` : r.code === 0 ? 'ok' : 'FAILED';
    console.log(`${verdict === 'ok' ? '✔' : '✘'} ${f}  ${ok}/${total} in ${(r.ms / 1000).toFixed(1)}s${why ? `  ${verdict}` : ''}`);
    times[f] = r.ms;
    if (verdict !== 'ok') problems.push(`--- ${f}: ${verdict}\n${r.out}`);
    else if (/SKIPPED LOUDLY/.test(r.out)) console.log(r.out.split('\n').filter((l) => l.includes('SKIPPED LOUDLY')).join('\n'));
  }
}
await Promise.all(Array.from({ length: PARALLEL }, worker));
if (TIMES) {
  try {
    // Merged with what another run may have written meanwhile; written whole, then renamed.
    let now = {};
    try { now = JSON.parse(readFileSync(TIMES, 'utf8')); } catch { /* none yet */ }
    const known = new Set(readdirSync(dir));
    const merged = Object.fromEntries(Object.entries({ ...now, ...times }).filter(([f]) => known.has(f)));
    mkdirSync(path.dirname(TIMES), { recursive: true });
    writeFileSync(`${TIMES}.${process.pid}`, JSON.stringify(merged, null, 1));
    renameSync(`${TIMES}.${process.pid}`, TIMES);
  } catch (e) {
    console.log(`(could not keep the durations for ordering the next run: ${e.message})`);
  }
}
for (const p of problems) console.log(p);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && files.length > 0 ? 0 : 1);
