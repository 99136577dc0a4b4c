// npm run bench (edge part): Hush's Worker in local workerd (`npm run edge:dev`, a temp state
// folder) beside a bare Worker that reads the body and answers 202, both started the same way
// (wrangler dev) and driven by the same wrk stream: POST /api/event with a different client
// address per request (CF-Connecting-IP, which Cloudflare sets) and real browsers' user-agents,
// one site, so every hit goes through the one Durable Object of that site.
//
// wrangler dev runs two workerd processes: a proxy on the public port and the one running the
// Worker (and its Durable Objects, in the same isolate, on the same thread). wrk is pointed at
// the second one's own socket, found through /proc, so the proxy is out of the figures.
// Figures, medians of BENCH_EDGE_RUNS runs alternating Hush and bare:
//  - hits/s (2xx answers);
//  - CPU per request of that workerd process (utime+stime over the run / 2xx answers): for Hush
//    the Worker, its object, SQLite and the runtime's own HTTP and RPC work; for the bare Worker the
//    runtime's share alone. Hush − bare is what Hush adds per hit, and Hush / bare the ratio;
//  - the Worker's own part of that, as Cloudflare counts it per request (its object is billed by
//    duration instead): the difference times the Worker's share of the isolate's CPU in V8's
//    sampling profiler (bench/edge-profile.ts, a separate run: profiling slows the isolate).
//    Local workerd has no CPU accounting of its own to ask: a tail Worker's cpuTime reads 0 here;
//  - SQLite rows written and read per hit, and by one rollup round, as the site object counts them
//    (the runtime's own counters, what Cloudflare bills storage by); rollup alarms are held off
//    during the runs, so that they do not fall into some runs and not others;
//  - the bundle as `wrangler deploy` would upload it (raw, gzipped).
// Env: BENCH_EDGE_SECONDS (default 8), BENCH_EDGE_CONNECTIONS (default 50), BENCH_EDGE_RUNS (default 3),
// BENCH_EDGE_DEBUG=1 (the profile's heaviest functions and the helper's progress).
import { spawn, execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listeningUrl } from './listening.ts';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_EDGE_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_EDGE_CONNECTIONS ?? 50);
const RUNS = Number(process.env.BENCH_EDGE_RUNS ?? 3);
const TOKEN = 'bench-edge-token';

let CLK_TCK = 100;
try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { /* Linux default */ }
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** TCP ports a process listens on (its socket inodes matched against /proc/<pid>/net/tcp{,6}). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

interface Dev {
  /** wrangler dev's public URL (the admin API goes there). */
  base: string;
  /** The Worker's workerd process and its own socket (not wrangler's proxy). */
  pid: number;
  entry: string;
  /** The Worker isolate's inspector (through wrangler's inspector proxy: workerd takes one session, and wrangler holds it). */
  inspector: string | null;
  /** Finds the process again: wrangler dev restarts it when a watched file changes. */
  refind(): Promise<void>;
  stop(): void;
}

/**
 * Finds the workerd that runs the Worker among a wrangler dev's processes: the one that does not
 * listen on the public port. Its entry socket is the port answering `isEntry`.
 */
async function workerProcess(child: ChildProcess, publicPort: number, inspectorPort: number, isEntry: (url: string) => Promise<boolean>,
  tries = 20): Promise<Omit<Dev, 'stop' | 'refind' | 'base'>> {
  try {
    return await findWorkerProcess(child, publicPort, inspectorPort, isEntry);
  } catch (e) {
    // Between a restart's old and new process (a watched file changed): look again shortly.
    if (tries <= 1) throw e;
    await new Promise((r) => setTimeout(r, 1000));
    return workerProcess(child, publicPort, inspectorPort, isEntry, tries - 1);
  }
}

async function findWorkerProcess(child: ChildProcess, publicPort: number, inspectorPort: number, isEntry: (url: string) => Promise<boolean>): Promise<Omit<Dev, 'stop' | 'refind' | 'base'>> {
  const pids = execFileSync('pgrep', ['-g', String(child.pid), '-x', 'workerd'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  const pid = pids.find((p) => !listeningPorts(p).includes(publicPort));
  if (pid === undefined) throw new Error(`no workerd besides wrangler's proxy among ${pids.join(', ')}`);
  let entry = '';
  for (const port of listeningPorts(pid)) {
    try {
      if (await isEntry(`http://127.0.0.1:${port}`)) entry = `http://127.0.0.1:${port}`;
    } catch { /* not HTTP */ }
  }
  let inspector: string | null = null;
  try {
    const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json() as Array<{ webSocketDebuggerUrl: string }>;
    inspector = targets[0]?.webSocketDebuggerUrl ?? null;
  } catch { /* no inspector */ }
  if (!entry) throw new Error(`the Worker's own socket was not found among ${listeningPorts(pid).join(', ')}`);
  return { pid, entry, inspector };
}

const killGroup = (child: ChildProcess) => () => {
  try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
};

async function startHush(dir: string): Promise<Dev> {
  const port = await freePort(), inspector = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/edge-dev.mjs'), '--port', String(port), '--state', path.join(dir, 'state'),
    '--inspector-port', String(inspector)], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    // Rollup rounds (whole-day rebuilds, an alarm an hour after writes by default) are timed on
    // their own below, not left to fall into some runs and not others.
    env: { ...process.env, HUSH_ADMIN_TOKEN: TOKEN, HUSH_ROLLUP_MS: '3600000' },
  });
  const stop = killGroup(child);
  process.on('exit', stop);
  try {
    const base = await listeningUrl(child, 60_000);
    const add = await fetch(`${base}/_hush/admin/sites`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: '{"domain":"bench.example"}' });
    if (add.status !== 201) throw new Error(`could not add the site: ${add.status} ${await add.text()}`);
    const find = () => workerProcess(child, port, inspector, async (url) => ((await (await fetch(`${url}/healthz`)).json()) as { runtime?: string }).runtime === 'workerd');
    const dev: Dev = { base, ...(await find()), stop, refind: async () => { Object.assign(dev, await find()); } };
    return dev;
  } catch (e) {
    stop();
    throw e;
  }
}

async function startBare(dir: string): Promise<Dev> {
  const bare = path.join(dir, 'bare');
  mkdirSync(bare, { recursive: true });
  writeFileSync(path.join(bare, 'worker.js'), 'export default { async fetch(req) { await req.text(); return new Response(null, { status: 202 }); } };\n');
  writeFileSync(path.join(bare, 'wrangler.toml'), 'name = "bare"\nmain = "worker.js"\ncompatibility_date = "2026-04-26"\n');
  const port = await freePort(), inspector = await freePort();
  const child = spawn(path.join(ROOT, 'node_modules/.bin/wrangler'), ['dev', '-c', path.join(bare, 'wrangler.toml'), '--ip', '127.0.0.1', '--port', String(port),
    '--inspector-port', String(inspector), '--persist-to', path.join(bare, 'state'), '--show-interactive-dev-session=false'],
  { cwd: bare, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  const stop = killGroup(child);
  process.on('exit', stop);
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`the bare worker did not start: ${out}`)), 60_000);
      const on = (d: Buffer) => { out += d; if (/Ready on/.test(out)) { clearTimeout(t); resolve(); } };
      child.stdout!.on('data', on);
      child.stderr!.on('data', on);
    });
    const find = () => workerProcess(child, port, inspector, async (url) => (await fetch(url, { method: 'POST', body: 'x' })).status === 202);
    const dev: Dev = { base: `http://127.0.0.1:${port}`, ...(await find()), stop, refind: async () => { Object.assign(dev, await find()); } };
    return dev;
  } catch (e) {
    stop();
    throw e;
  }
}

/** The bundle as `wrangler deploy` would upload it (its own "Total Upload" line). */
function bundleSize(dir: string): string {
  const out = execFileSync(path.join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', path.join(dir, 'dist')], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return /Total Upload: ([^\n]+)/.exec(out)?.[1]?.trim() ?? 'unknown';
}

const LUA = `
local uas = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
}
local paths = { "/", "/pricing", "/blog/hello-world", "/docs/getting-started", "/about" }
local n = 0
request = function()
  n = n + 1
  local ip = string.format("81.%d.%d.%d", 2 + (n % 200), math.floor(n / 250) % 250, 1 + (n % 250))
  local body = string.format('{"n":"pageview","u":"https://bench.example%s","d":"bench.example","r":"https://www.google.com/"}', paths[1 + (n % #paths)])
  return wrk.format("POST", "/api/event", { ["Content-Type"] = "text/plain", ["User-Agent"] = uas[1 + (n % #uas)], ["CF-Connecting-IP"] = ip }, body)
end
`;

/**
 * One wrk run against a Worker's own socket: 2xx per second and its process's CPU ms per 2xx. A run
 * during which wrangler restarted the process (a watched file changed) is run again.
 */
async function measure(dev: Dev, lua: string, tries = 3): Promise<{ rps: number; cpuMs: number; errors: number; ok: number }> {
  let cpu0: number, out: string, cpu: number;
  try {
    cpu0 = cpuSeconds(dev.pid);
    out = execFileSync('wrk', ['-t1', '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '-s', lua, dev.entry], { encoding: 'utf8' });
    cpu = cpuSeconds(dev.pid) - cpu0;
  } catch (e) {
    if (tries <= 1) throw e;
    console.log('  (the workerd process was restarted during a run: measured again)');
    await new Promise((r) => setTimeout(r, 5000));
    await dev.refind();
    return measure(dev, lua, tries - 1);
  }
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const ok = Math.max(requests - errors, 1);
  return { rps: ok / SECONDS, cpuMs: (cpu / ok) * 1000, errors, ok };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hush-bench-edge-'));
  const lua = path.join(dir, 'edge.lua');
  writeFileSync(lua, LUA);
  let hush: Dev | null = null, bare: Dev | null = null;
  try {
    hush = await startHush(dir);
    bare = await startBare(dir);
    const loadBefore = load();
    for (const d of [hush, bare]) execFileSync('wrk', ['-t1', '-c', String(CONNECTIONS), '-d', '2s', '-s', lua, d.entry], { stdio: 'ignore' }); // warm-up
    // The site object's own count of SQLite rows read and written (what Cloudflare bills storage by),
    // through the alarm's work on demand; the first call also rolls up the warm-up's hits.
    type Rows = { rowsRead: number; rowsWritten: number };
    const housekeeping = async () => {
      await hush!.refind();
      const cpu0 = cpuSeconds(hush!.pid), t0 = performance.now();
      const r = await fetch(`${hush!.base}/_hush/admin/housekeeping?site_id=1`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
      if (!r.ok) throw new Error(`housekeeping: ${r.status} ${await r.text()}`);
      const m = ((await r.json()) as { shards: Array<{ rollupDays: number; rows: { before: Rows; after: Rows } }> }).shards[0];
      return { ...m, ms: performance.now() - t0, cpuMs: (cpuSeconds(hush!.pid) - cpu0) * 1000 };
    };
    const start = await housekeeping();
    const runs: Array<{ hush: Awaited<ReturnType<typeof measure>>; bare: Awaited<ReturnType<typeof measure>> }> = [];
    for (let i = 0; i < RUNS; i++) runs.push({ hush: await measure(hush, lua), bare: await measure(bare, lua) });
    const h = { rps: median(runs.map((r) => r.hush.rps)), cpu: median(runs.map((r) => r.hush.cpuMs)) };
    const b = { rps: median(runs.map((r) => r.bare.rps)), cpu: median(runs.map((r) => r.bare.cpuMs)) };
    const added = median(runs.map((r) => r.hush.cpuMs - r.bare.cpuMs));
    const errors = runs.reduce((t, r) => t + r.hush.errors, 0);
    console.log(`edge (workerd, its own socket without wrangler's proxy; one site object; ${CONNECTIONS} connections; median of ${RUNS} × ${SECONDS} s; load ${loadBefore} → ${load()}):`);
    console.log(`  Hush ${Math.round(h.rps)} hits/s at ${h.cpu.toFixed(3)} ms CPU per hit (the workerd process); bare Worker ${Math.round(b.rps)} req/s at ${b.cpu.toFixed(3)} ms` +
      ` → Hush / bare ${(h.rps / b.rps).toFixed(2)}× hits/s, ${(h.cpu / b.cpu).toFixed(2)}× CPU per request; Hush adds ${added.toFixed(3)} ms per hit (Worker + object + SQLite); ${errors} non-2xx` +
      ` [per run: ${runs.map((r) => `${r.hush.cpuMs.toFixed(2)}/${r.bare.cpuMs.toFixed(2)}`).join(', ')} ms]`);
    // One rollup round over the day written above (all of it in one UTC day, or two across midnight).
    const stored = runs.reduce((t, r) => t + r.hush.ok, 0);
    const round = await housekeeping();
    const perHit = (round.rows.before.rowsWritten - start.rows.after.rowsWritten) / Math.max(stored, 1);
    const readPerHit = (round.rows.before.rowsRead - start.rows.after.rowsRead) / Math.max(stored, 1);
    console.log(`  storage, as the object counts it: ${perHit.toFixed(2)} rows written and ${readPerHit.toFixed(2)} read per hit; a rollup round (an alarm an hour ` +
      `after writes by default) rebuilding ${round.rollupDays} day(s) with ≥ ${stored} hits: ${round.rows.after.rowsWritten - round.rows.before.rowsWritten} rows written, ` +
      `${round.rows.after.rowsRead - round.rows.before.rowsRead} read, ${round.ms.toFixed(0)} ms wall, ${round.cpuMs.toFixed(0)} ms CPU`);
    await hush.refind(); // its socket, as of now (wrangler restarts workerd when a watched file changes)
    if (hush.inspector) {
      const p = spawnSync(process.execPath, ['--experimental-websocket', '--import', 'tsx', path.join(ROOT, 'bench/edge-profile.ts'), hush.inspector, hush.entry, lua, String(Math.min(SECONDS, 5))],
        { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      const line = p.stdout.trim().split('\n').pop() ?? '';
      if (process.env.BENCH_EDGE_DEBUG) console.log(p.stderr);
      if (p.status !== 0 || !line.startsWith('{')) {
        if (process.env.BENCH_EDGE_DEBUG) console.log(p.status, p.signal, p.error, p.stdout, p.stderr);
        console.log(`  the Worker's share: the profiler run failed (${(p.stderr || p.stdout).trim().slice(-300)})`);
      } else {
        const s = JSON.parse(line) as { worker: number; object: number; program: number; gc: number; idle: number; hits: number };
        const share = s.worker / Math.max(s.worker + s.object, 1e-9);
        const busy = s.worker + s.object + s.program + s.gc;
        console.log(`  the Worker's own CPU per hit ≈ ${(added * share).toFixed(3)} ms (${(share * 100).toFixed(0)} % of what Hush adds: V8's sampling profile of the isolate over ` +
          `${s.hits} hits gave the Worker ${s.worker.toFixed(0)} ms, the site object ${s.object.toFixed(0)} ms, unattributed ${(s.program + s.gc).toFixed(0)} ms of ${busy.toFixed(0)} ms busy` +
          `; profiling slows it, so only the share is used); the free plan allows 10 ms a request, the goal is ≤ 1 ms`);
      }
    } else {
      console.log('  the Worker\'s share: the isolate\'s inspector was not found; not measured');
    }
    hush.stop();
    bare.stop();
    console.log(`edge bundle (wrangler deploy --dry-run): ${bundleSize(dir)}`);
  } finally {
    hush?.stop();
    bare?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
