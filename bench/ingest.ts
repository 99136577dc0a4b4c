// npm run bench: ingestion throughput of Hush against a bare node:http server in the same run.
// Each server runs in its own process pinned to CPU 0; wrk (C, one thread) drives it from CPU 1
// with 50 connections, a different client address (X-Forwarded-For from a trusted proxy) per
// request and the real browsers' user-agents of the shipped access log. Runs alternate between
// servers and the figures are medians, since these machines are noisy.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { isbot } from 'isbot';
import { openDb } from '../src/store/db.ts';
import { SiteRepo } from '../src/store/sites.ts';
import { apacheLog } from '../test/helpers/fixtures.ts';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 50;

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
// BENCH_PIN=0 lets every process use both cores (for comparison; the headline figures pin).
const PIN = process.env.BENCH_PIN !== '0' && have('taskset');
const pin = (cpu: number, cmd: string[]) => (PIN ? ['taskset', '-c', String(cpu), ...cmd] : cmd);

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

function luaScript(uas: string[]): string {
  const q = (s: string) => `[==[${s}]==]`;
  return `
local uas = { ${uas.map(q).join(',\n')} }
local paths = { "/", "/pricing", "/blog/hello-world", "/docs/getting-started", "/about", "/blog/privacy?utm_source=newsletter&utm_medium=email" }
local refs = { "", "https://www.google.com/", "https://news.ycombinator.com/item?id=1", "https://t.co/abc", "https://duckduckgo.com/" }
math.randomseed(os.time())
request = function()
  local ip = math.random(1, 223) .. "." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  local body = '{"n":"pageview","u":"https://example.com' .. paths[math.random(#paths)] .. '","d":"example.com","r":"' .. refs[math.random(#refs)] .. '","sw":1440,"l":"en-US","b":18342,"s":200,"lt":420}'
  local headers = { ["Content-Type"] = "text/plain", ["User-Agent"] = uas[math.random(#uas)], ["X-Forwarded-For"] = ip }
  return wrk.format("POST", "/api/event", headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f\\n", summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
`;
}

interface Sample { rps: number; p50: number; p99: number; requests: number; non2xx: number; sockErrors: number }

function wrk(url: string, lua: string, seconds: number): Sample {
  const out = execFileSync(pin(1, ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', lua, url])[0],
    pin(1, ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', lua, url]).slice(1), { encoding: 'utf8' });
  const m = /RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)/.exec(out);
  if (!m) throw new Error(`could not read wrk output:\n${out}`);
  const [requests, non2xx, sockErrors] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { requests, non2xx, sockErrors, rps: requests / Number(m[4]), p50: Number(m[5]), p99: Number(m[6]) };
}

async function start(cmd: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const [bin, ...args] = pin(0, cmd);
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`did not start: ${out}`)), 30_000);
    const on = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]); }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
  return { child, url: `${url}/api/event` };
}

async function stop(child: ChildProcess): Promise<void> {
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const work = mkdtempSync(path.join(tmpdir(), 'hush-bench-'));
try {
  const lua = path.join(work, 'hits.lua');
  const uas = userAgents();
  writeFileSync(lua, luaScript(uas));
  const dbPath = path.join(work, 'hush.db');
  const db = openDb(dbPath);
  new SiteRepo(db.db).add({ domain: 'example.com' });
  db.close();
  const hushEnv = { HUSH_DB: dbPath, HUSH_TRUSTED_PROXIES: '127.0.0.1/32', PORT: '0', HOST: '127.0.0.1' };
  const tsx = [process.execPath, '--import', 'tsx', path.join(here, 'hush-server.ts')];
  const variants: Array<{ name: string; cmd: string[]; env: Record<string, string> }> = [
    { name: 'bare node:http 204', cmd: [process.execPath, path.join(here, 'bare-server.mjs')], env: {} },
    { name: 'hush (lean path)', cmd: tsx, env: hushEnv },
    { name: 'hush (via Hono)', cmd: [...tsx, '--hono'], env: hushEnv },
    ...(process.env.BENCH_INLINE ? [{ name: 'hush (inline writer)', cmd: [...tsx, '--inline'], env: hushEnv }] : []),
  ];
  const only = process.env.BENCH_ONLY;
  if (only) variants.splice(0, variants.length, ...variants.filter((v) => v.name.includes(only) || v.name.startsWith('bare')));
  console.log(`ingestion: wrk -t1 -c${CONNECTIONS}, ${SECONDS}s per run, ${RUNS} runs per server (alternating), ${uas.length} user-agents, random client IPs, ${PIN ? 'server on CPU 0, wrk on CPU 1' : 'unpinned'}`);
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const v of variants) {
      const s = await start(v.cmd, v.env);
      wrk(s.url, lua, 2); // warm-up: JIT, caches, SQLite pages
      const sample = wrk(s.url, lua, SECONDS);
      await stop(s.child);
      samples.get(v.name)!.push(sample);
      console.log(`  run ${run + 1} ${v.name.padEnd(20)} ${Math.round(sample.rps).toString().padStart(6)} req/s  p50 ${sample.p50.toFixed(2)} ms  p99 ${sample.p99.toFixed(2)} ms  non-2xx ${sample.non2xx}  socket errors ${sample.sockErrors}`);
    }
  }
  const check = new Database(dbPath, { readonly: true });
  const stored = (check.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  check.close();
  console.log('\nmedians');
  const bare = median(samples.get(variants[0].name)!.map((s) => s.rps));
  for (const v of variants) {
    const s = samples.get(v.name)!;
    const rps = median(s.map((x) => x.rps));
    console.log(`  ${v.name.padEnd(20)} ${Math.round(rps).toString().padStart(6)} req/s  p50 ${median(s.map((x) => x.p50)).toFixed(2)} ms  p99 ${median(s.map((x) => x.p99)).toFixed(2)} ms  ratio vs bare ${(rps / bare).toFixed(2)}`);
  }
  console.log(`  events stored by hush across all runs (warm-ups included): ${stored}`);
  console.log('target: hush (lean path) ≥ 0.50 × bare, p99 ≤ 25 ms at 50 connections');
  const beacon = path.join(ROOT, 'public/hush.js');
  if (existsSync(beacon)) {
    const js = readFileSync(beacon);
    console.log(`\nhush.js: ${js.length} bytes, ${gzipSync(js, { level: 9 }).length} bytes gzipped (budget 1536, goal 1024)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
