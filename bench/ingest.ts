// npm run bench: ingestion throughput of Hush against a bare node:http server and, when told where a
// built binary is (BENCH_PEER_FATHOM=/path/to/fathom), Fathom Lite, all in the same run. Each server
// runs in its own process pinned to CPU 0; wrk (C, one thread) drives it from CPU 1 at 50 and 256
// connections with the same request mix for every target: a different client address per request
// (X-Forwarded-For from a trusted proxy; Fathom ignores it), the real browsers' user-agents of the
// shipped access log and the same pages and referrers, drawn from the same seeded sequence —
// `POST /api/event` for Hush and bare, `GET /collect` for Fathom. Runs alternate between servers
// and the figures are medians, since these machines are noisy; one more unpinned pass (both cores,
// wrk beside the server) follows. CPU per acknowledged hit is the server process's utime+stime
// (/proc/PID/stat: all its threads, the writer thread included) over the measured run and a short
// settle after it (so Fathom's batched inserts are counted too), divided by the 2xx answers. For Hush
// it is also split by thread (main, writer, reports, the rest: V8's and libuv's), read by the names
// src/thread-boot.mjs gives its workers, and "cores" is CPU time over wall time: in the unpinned pass
// a figure above 1 shows the writer and the reports thread running beside the HTTP thread.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { isbot } from 'isbot';
import { openDb } from '../src/store/db.ts';
import { SiteRepo } from '../src/store/sites.ts';
import { apacheLog } from '../test/helpers/fixtures.ts';
import { gzipSync } from 'node:zlib';
import { FathomPeer, FATHOM_SITE } from './peer-fathom.ts';
import { listeningUrl } from './listening.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, '..');
const RUNS = Number(process.env.BENCH_INGEST_RUNS ?? process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = (process.env.BENCH_INGEST_CONNECTIONS ?? '50,256').split(',').map(Number).filter((n) => n > 0);
const WARMUP_SECONDS = 2;
/** After the measured run, before the second CPU reading: Fathom inserts its buffer every second. */
const SETTLE_MS = 1200;

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
if (!have('wrk')) {
  console.error('bench: wrk is not installed (apt-get install -y wrk): a JS load generator would be the bottleneck here');
  process.exit(1);
}
// BENCH_PIN=0 lets every process use both cores for the headline figures too (they pin by default).
const PIN = process.env.BENCH_PIN !== '0' && have('taskset');
const UNPINNED_PASS = PIN && process.env.BENCH_INGEST_UNPINNED !== '0';
type Wrap = (cmd: string[]) => string[];
const pinTo = (pinned: boolean, cpu: number): Wrap => (cmd) => (pinned ? ['taskset', '-c', String(cpu), ...cmd] : cmd);

let CLK_TCK = 100;
try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { /* Linux default */ }
/** utime + stime of a whole process (every thread, live or exited), in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
/** Hush's threads by name (src/thread-boot.mjs names its workers): CPU seconds of each class. */
type Threads = { main: number; writer: number; reports: number; other: number };
function threadSeconds(pid: number): Threads {
  const t: Threads = { main: 0, writer: 0, reports: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try { stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'); } catch { continue; } // exited meanwhile
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sec = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    const k = Number(tid) === pid ? 'main' : comm === 'hush-writer' ? 'writer' : comm === 'hush-reports' ? 'reports' : 'other';
    t[k] += sec;
  }
  return t;
}
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function userAgents(): string[] {
  const fallback = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  ];
  const set = new Set<string>();
  for (const line of apacheLog().split('\n')) {
    const ua = line.split('"')[5];
    if (ua && ua.length > 20 && !isbot(ua) && !ua.includes('\\') && !ua.includes(']]')) set.add(ua);
  }
  return set.size ? [...set] : fallback;
}

const PATHS = ['/', '/pricing', '/blog/hello-world', '/docs/getting-started', '/about', '/blog/privacy?utm_source=newsletter&utm_medium=email'];
const REFS = ['', 'https://www.google.com/', 'https://news.ycombinator.com/item?id=1', 'https://t.co/abc', 'https://duckduckgo.com/'];

/**
 * One wrk script per target, drawing the same sequence for the same seed (passed after `--`):
 * the random calls happen in the same order whatever the target, only the request's shape differs.
 */
function luaScript(uas: string[], target: 'hush' | 'fathom'): string {
  const q = (s: string) => `[==[${s}]==]`;
  const list = (xs: string[]) => `{ ${xs.map(q).join(', ')} }`;
  const enc = encodeURIComponent;
  const request = target === 'hush'
    ? `local body = '{"n":"pageview","u":"https://example.com' .. paths[p] .. '","d":"example.com","r":"' .. refs[r] .. '","sw":1440,"l":"en-US","b":18342,"s":200,"lt":420}'
  local headers = { ["Content-Type"] = "text/plain", ["User-Agent"] = ua, ["X-Forwarded-For"] = ip }
  return wrk.format("POST", "/api/event", headers, body)`
    : `local headers = { ["User-Agent"] = ua, ["X-Forwarded-For"] = ip }
  return wrk.format("GET", "/collect?sid=${FATHOM_SITE}&h=${enc('https://example.com')}&p=" .. paths[p] .. "&r=" .. refs[r] .. "&nv=1&ns=1&u=1", headers)`;
  return `
local uas = { ${uas.map(q).join(',\n')} }
local paths = ${list(target === 'hush' ? PATHS : PATHS.map(enc))}
local refs = ${list(target === 'hush' ? REFS : REFS.map(enc))}
init = function(args)
  math.randomseed(tonumber(args[1]) or os.time())
end
request = function()
  local ip = math.random(1, 223) .. "." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  local p = math.random(#paths)
  local r = math.random(#refs)
  local ua = uas[math.random(#uas)]
  ${request}
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f\\n", summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
`;
}

interface Sample {
  rps: number; p50: number; p99: number; requests: number; non2xx: number; sockErrors: number; cpuUsPerHit: number; stored?: number;
  /** CPU seconds (run and settle) over the run's seconds: above 1, threads ran side by side. */
  cores?: number;
  /** Hush only: CPU µs per acknowledged hit of each thread class. */
  threads?: Threads;
}

/** wrk counts answers ≥ 400 as status errors; the rest (all 2xx here) are the acknowledged hits. */
function wrk(url: string, lua: string, seconds: number, connections: number, seed: number, pinned: boolean): Omit<Sample, 'cpuUsPerHit'> {
  const [cmd, ...args] = pinTo(pinned, 1)(['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '-s', lua, url, '--', String(seed)]);
  const out = execFileSync(cmd, args, { encoding: 'utf8' });
  const m = /RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)/.exec(out);
  if (!m) throw new Error(`could not read wrk output:\n${out}`);
  const [requests, non2xx, sockErrors] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { requests, non2xx, sockErrors, rps: requests / Number(m[4]), p50: Number(m[5]), p99: Number(m[6]) };
}

interface Running { pid: number; url: string; stop(): Promise<void> }

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

async function startNode(cmd: string[], env: Record<string, string>, wrap: Wrap): Promise<Running> {
  const [bin, ...args] = wrap(cmd);
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  live.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => { live.delete(child); r(); }));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const url = await listeningUrl(child, 30_000);
    return { pid: child.pid!, url, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Variant {
  name: string;
  kind: 'bare' | 'hush' | 'fathom';
  start(wrap: Wrap): Promise<Running>;
  lua: string;
  /** Rows stored so far, read while the server is idle or stopped. */
  stored?: () => number;
  /** Connection counts to measure it at (default: all). */
  at?: number[];
  /** Left out of the unpinned pass. */
  pinnedOnly?: boolean;
}

async function measure(v: Variant, connections: number, seed: number, pinned: boolean): Promise<Sample> {
  const s = await v.start(pinTo(pinned, 0));
  let sample: Omit<Sample, 'cpuUsPerHit'>, cpu: number, wall: number, before: number | undefined, t0: Threads | undefined, t1: Threads | undefined;
  try {
    wrk(s.url, v.lua, WARMUP_SECONDS, connections, seed + 1_000_000, pinned); // JIT, caches, SQLite pages
    await sleep(200);
    before = v.stored?.();
    const c0 = cpuSeconds(s.pid);
    t0 = v.kind === 'hush' ? threadSeconds(s.pid) : undefined;
    sample = wrk(s.url, v.lua, SECONDS, connections, seed, pinned);
    await sleep(SETTLE_MS);
    cpu = cpuSeconds(s.pid) - c0;
    wall = sample.requests / sample.rps; // wrk's own measured duration
    t1 = t0 ? threadSeconds(s.pid) : undefined;
  } finally {
    await s.stop();
  }
  const acked = sample.requests - sample.non2xx;
  const stored = v.stored && before !== undefined ? v.stored() - before : undefined;
  const perHit = (sec: number) => (acked > 0 ? (sec * 1e6) / acked : NaN);
  const threads = t0 && t1 ? { main: perHit(t1.main - t0.main), writer: perHit(t1.writer - t0.writer), reports: perHit(t1.reports - t0.reports), other: perHit(t1.other - t0.other) } : undefined;
  return { ...sample, cpuUsPerHit: perHit(cpu), stored, cores: cpu / wall, threads };
}

const fmt = (n: number, w = 6) => Math.round(n).toString().padStart(w);
function line(label: string, s: Sample): string {
  const stored = s.stored === undefined ? '' : `  stored ${s.stored}/${s.requests - s.non2xx} acked`;
  const t = s.threads;
  const threads = t ? `\n${' '.repeat(label.length)}   threads µs/hit: main ${t.main.toFixed(1)} · writer ${t.writer.toFixed(1)} · reports ${t.reports.toFixed(1)} · V8/libuv ${t.other.toFixed(1)}` : '';
  return `${label} ${fmt(s.rps)} req/s  p50 ${s.p50.toFixed(2).padStart(6)} ms  p99 ${s.p99.toFixed(2).padStart(7)} ms  CPU ${fmt(s.cpuUsPerHit, 4)} µs/hit  ${(s.cores ?? NaN).toFixed(2)} cores  non-2xx ${s.non2xx}  socket errors ${s.sockErrors}${stored}${threads}`;
}

const work = mkdtempSync(path.join(tmpdir(), 'hush-bench-'));
const peerBin = process.env.BENCH_PEER_FATHOM;
let peer: FathomPeer | undefined;
try {
  const fathom = (peer = peerBin ? new FathomPeer(path.resolve(peerBin)) : undefined);
  const uas = userAgents();
  const luaHush = path.join(work, 'hush.lua');
  const luaFathom = path.join(work, 'fathom.lua');
  writeFileSync(luaHush, luaScript(uas, 'hush'));
  writeFileSync(luaFathom, luaScript(uas, 'fathom'));
  // Every Hush start gets a fresh database: the variants then write into the same state (a day
  // that starts empty), and the rollup rounds of one never read what another wrote.
  let dbPath = '';
  let dbs = 0;
  const freshDb = () => {
    dbPath = path.join(work, `hush-${++dbs}.db`);
    const db = openDb(dbPath);
    new SiteRepo(db.db).add({ domain: 'example.com' });
    db.close();
    return dbPath;
  };
  const hushStored = () => {
    const d = new Database(dbPath, { readonly: true, timeout: 5000 });
    try { return (d.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n; } finally { d.close(); }
  };
  // Rollups are refreshed every second (the default); "rollups off" puts the first round an hour
  // away and turns off the writer's batch digests.
  const hushEnv = (extra: Record<string, string> = {}) => ({ HUSH_DB: freshDb(), HUSH_TRUSTED_PROXIES: '127.0.0.1/32', PORT: '0', HOST: '127.0.0.1', ...extra });
  const tsx = [process.execPath, '--import', 'tsx', path.join(here, 'hush-server.ts')];
  const event = (r: Promise<Running>) => r.then((x) => ({ ...x, url: `${x.url}/api/event` }));
  const variants: Variant[] = [
    { name: 'bare node:http 204', kind: 'bare', lua: luaHush, start: (w) => event(startNode([process.execPath, path.join(here, 'bare-server.mjs')], {}, w)) },
    ...(fathom ? [{
      name: 'fathom lite', kind: 'fathom' as const, lua: luaFathom, stored: () => fathom.stored(),
      start: async (w: Wrap) => {
        const p = await fathom.start(w);
        return { pid: p.child.pid!, url: `${p.url}/collect`, stop: p.stop };
      },
    }] : []),
    { name: 'hush', kind: 'hush', lua: luaHush, stored: hushStored, start: (w) => event(startNode(tsx, hushEnv(), w)) },
    { name: 'hush (rollups off)', kind: 'hush', lua: luaHush, stored: hushStored, pinnedOnly: true, start: (w) => event(startNode(tsx, hushEnv({ HUSH_ROLLUP_MS: '3600000', HUSH_LIVE_ROLLUPS: '0' }), w)) },
    { name: 'hush (node:http)', kind: 'hush', lua: luaHush, stored: hushStored, at: CONNECTIONS.slice(0, 1), pinnedOnly: true, start: (w) => event(startNode([...tsx, '--no-front'], hushEnv(), w)) },
    // Opt-in: ~5× Hush's CPU per hit, and no deployment routes beacons through it.
    ...(process.env.BENCH_HONO ? [{ name: 'hush (via Hono)', kind: 'hush' as const, lua: luaHush, stored: hushStored, at: CONNECTIONS.slice(0, 1), pinnedOnly: true, start: (w: Wrap) => event(startNode([...tsx, '--hono'], hushEnv(), w)) }] : []),
    ...(process.env.BENCH_INLINE ? [{ name: 'hush (inline writer)', kind: 'hush' as const, lua: luaHush, stored: hushStored, pinnedOnly: true, start: (w: Wrap) => event(startNode([...tsx, '--inline'], hushEnv(), w)) }] : []),
  ];
  const only = process.env.BENCH_ONLY;
  if (only) variants.splice(0, variants.length, ...variants.filter((v) => v.name.includes(only) || v.kind !== 'hush'));
  const names = variants.map((v) => v.name);
  const width = Math.max(...names.map((n) => n.length));

  const load0 = loadavg();
  console.log(`ingestion: wrk -t1 at ${CONNECTIONS.join(' and ')} connections, ${SECONDS}s per run after a ${WARMUP_SECONDS}s warm-up, ${RUNS} runs per server (alternating), ${uas.length} user-agents, random client IPs, the same seeded request mix for every server, ${PIN ? 'server on CPU 0, wrk on CPU 1' : 'unpinned'}`);
  console.log(`machine: ${cpus().length} CPUs, load average ${load0} at the start — other work on these cores makes every figure noisy`);
  if (!fathom) console.log('peer Fathom Lite: skipped (set BENCH_PEER_FATHOM=/path/to/a/built/fathom binary to include it)');

  const key = (conns: number, pinned: boolean, name: string) => `${conns}/${pinned}/${name}`;
  const samples = new Map<string, Sample[]>();
  const record = (conns: number, pinned: boolean, v: Variant, s: Sample, label: string) => {
    const k = key(conns, pinned, v.name);
    samples.set(k, [...(samples.get(k) ?? []), s]);
    console.log(line(`  ${label} c=${String(conns).padEnd(3)} ${v.name.padEnd(width)}`, s));
  };
  const passes: Array<{ pinned: boolean; runs: number; title: string }> = [
    { pinned: PIN, runs: RUNS, title: PIN ? 'pinned (server CPU 0, wrk CPU 1)' : 'unpinned' },
    ...(UNPINNED_PASS ? [{ pinned: false, runs: 1, title: 'unpinned (both cores, wrk beside the server)' }] : []),
  ];
  for (const pass of passes) {
    console.log(`\n${pass.title}`);
    for (let run = 0; run < pass.runs; run++) {
      for (const conns of CONNECTIONS) {
        for (const v of variants) {
          if (v.at && !v.at.includes(conns)) continue;
          if (!pass.pinned && PIN && v.pinnedOnly) continue;
          record(conns, pass.pinned, v, await measure(v, conns, 1 + run, pass.pinned), `run ${run + 1}`);
        }
      }
    }
  }
  const load1 = loadavg();

  const summary = (s: Sample[]): Sample => ({
    rps: median(s.map((x) => x.rps)), p50: median(s.map((x) => x.p50)), p99: median(s.map((x) => x.p99)),
    cpuUsPerHit: median(s.map((x) => x.cpuUsPerHit)), requests: s.reduce((a, x) => a + x.requests, 0),
    cores: median(s.map((x) => x.cores ?? NaN)),
    threads: s[0].threads && {
      main: median(s.map((x) => x.threads!.main)), writer: median(s.map((x) => x.threads!.writer)),
      reports: median(s.map((x) => x.threads!.reports)), other: median(s.map((x) => x.threads!.other)),
    },
    non2xx: s.reduce((a, x) => a + x.non2xx, 0), sockErrors: s.reduce((a, x) => a + x.sockErrors, 0),
    stored: s[0].stored === undefined ? undefined : s.reduce((a, x) => a + (x.stored ?? 0), 0),
  });
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  for (const pass of passes) {
    console.log(`\n${pass.runs > 1 ? `medians of ${pass.runs}` : 'one run'}, ${pass.title} (non-2xx, socket errors and stored/acked summed over the runs)`);
    for (const conns of CONNECTIONS) {
      const get = (name: string | undefined) => (name && samples.get(key(conns, pass.pinned, name)) ? summary(samples.get(key(conns, pass.pinned, name))!) : undefined);
      for (const v of variants) {
        const s = get(v.name);
        if (s) console.log(line(`  c=${String(conns).padEnd(3)} ${v.name.padEnd(width)}`, s));
      }
      const bare = get(variants.find((v) => v.kind === 'bare')?.name);
      const peer = get(variants.find((v) => v.kind === 'fathom')?.name);
      const hush = get(variants.find((v) => v.kind === 'hush')?.name);
      const off = get('hush (rollups off)');
      if (hush && off) console.log(`  c=${String(conns).padEnd(3)} rollups on / off: ${ratio(hush.rps, off.rps)} req/s, CPU per hit ${ratio(hush.cpuUsPerHit, off.cpuUsPerHit)} (target ≥ 0.95× req/s, issue 15)`);
      if (hush && peer) console.log(`  c=${String(conns).padEnd(3)} Hush / Fathom: ${ratio(hush.rps, peer.rps)} req/s, p50 ${ratio(hush.p50, peer.p50)}, p99 ${ratio(hush.p99, peer.p99)}, CPU per hit ${ratio(hush.cpuUsPerHit, peer.cpuUsPerHit)}`);
      else if (hush) console.log(`  c=${String(conns).padEnd(3)} Hush / Fathom: skipped (no BENCH_PEER_FATHOM)`);
      if (hush && bare) console.log(`  c=${String(conns).padEnd(3)} Hush / bare:   ${ratio(hush.rps, bare.rps)} req/s, p50 ${ratio(hush.p50, bare.p50)}, p99 ${ratio(hush.p99, bare.p99)}, CPU per hit ${ratio(hush.cpuUsPerHit, bare.cpuUsPerHit)}`);
    }
  }
  console.log(`\nload average ${load0} at the start, ${load1} at the end (${cpus().length} CPUs)`);
  console.log('CPU per hit: the server process\'s utime+stime over the run and a 1.2 s settle, all threads, ÷ 2xx answers; "stored" counts rows written during the measured run (Hush answers 202 after COMMIT; Fathom answers 200 first and inserts in batches)');
  console.log('target: hush ≥ 0.50 × bare, p99 ≤ 25 ms at 50 connections; clearly ahead of Fathom Lite (issue 13)');
  const beacon = path.join(ROOT, 'public/hush.js');
  if (existsSync(beacon)) {
    const js = readFileSync(beacon);
    console.log(`\nhush.js: ${js.length} bytes, ${gzipSync(js, { level: 9 }).length} bytes gzipped (budget 1536, goal 1024)`);
  }
} finally {
  peer?.dispose();
  rmSync(work, { recursive: true, force: true });
}
