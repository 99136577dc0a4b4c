// npm run bench (edge part): Hush's Worker in local workerd (`npm run edge:dev`, a temp state
// folder), driven by wrk like the Node ingestion bench: POST /api/event with a different client
// address per request (CF-Connecting-IP, which Cloudflare sets) and real browsers' user-agents,
// one site, so every hit goes through the one Durable Object of that site.
// Figures: hits/s (2xx answers), CPU per hit of the workerd process (utime+stime of every thread
// over the run, divided by the 2xx answers: the Worker, the object, HTTP and SQLite together — an
// upper bound of what Cloudflare would bill the Worker), and the bundle as uploaded (raw, gzipped).
// Beside it, in the same run, a bare Worker that answers 202 to the same requests through the same
// local stack: wrangler dev puts proxies in front of workerd, and on these machines that stack,
// not Hush, sets the ceiling of local figures.
// Env: BENCH_EDGE_SECONDS (default 8), BENCH_EDGE_CONNECTIONS (default 50).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listeningUrl } from './listening.ts';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_EDGE_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_EDGE_CONNECTIONS ?? 50);
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
local ok = 0
response = function(status) if status == 202 then ok = ok + 1 end end
`;

/** hits/s of a Worker that only answers 202, through wrangler dev like Hush. */
async function bareWorker(dir: string, lua: string): Promise<number> {
  const bare = path.join(dir, 'bare');
  execFileSync('mkdir', ['-p', bare]);
  writeFileSync(path.join(bare, 'worker.js'), 'export default { async fetch(req) { await req.text(); return new Response(null, { status: 202 }); } };\n');
  writeFileSync(path.join(bare, 'wrangler.toml'), 'name = "bare"\nmain = "worker.js"\ncompatibility_date = "2026-04-26"\n');
  const port = await freePort(), inspector = await freePort();
  const child = spawn(path.join(ROOT, 'node_modules/.bin/wrangler'), ['dev', '-c', path.join(bare, 'wrangler.toml'), '--ip', '127.0.0.1', '--port', String(port),
    '--inspector-port', String(inspector), '--persist-to', path.join(bare, 'state'), '--show-interactive-dev-session=false'],
  { cwd: bare, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`the bare worker did not start: ${out}`)), 60_000);
      const on = (d: Buffer) => { out += d; if (/Ready on/.test(out)) { clearTimeout(t); resolve(); } };
      child.stdout!.on('data', on);
      child.stderr!.on('data', on);
    });
    const base = `http://127.0.0.1:${port}`;
    execFileSync('wrk', ['-t1', '-c', String(CONNECTIONS), '-d', '2s', '-s', lua, base], { stdio: 'ignore' });
    const out = execFileSync('wrk', ['-t1', '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '-s', lua, base], { encoding: 'utf8' });
    return Number(/(\d+) requests in/.exec(out)?.[1] ?? 0) / SECONDS;
  } finally {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hush-bench-edge-'));
  const port = await freePort(), inspector = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/edge-dev.mjs'), '--port', String(port), '--state', path.join(dir, 'state'),
    '--inspector-port', String(inspector)], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HUSH_ADMIN_TOKEN: TOKEN } });
  const stop = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  process.on('exit', stop);
  try {
    const base = await listeningUrl(child, 60_000);
    const add = await fetch(`${base}/_hush/admin/sites`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: '{"domain":"bench.example"}' });
    if (add.status !== 201) throw new Error(`could not add the site: ${add.status} ${await add.text()}`);
    // wrangler dev runs two workerd processes (its proxy and the Worker): both are counted.
    const workerds = execFileSync('pgrep', ['-g', String(child.pid), '-x', 'workerd'], { encoding: 'utf8' }).trim().split('\n').map(Number);
    const workerdCpu = () => workerds.reduce((t, pid) => t + cpuSeconds(pid), 0);
    const lua = path.join(dir, 'edge.lua');
    writeFileSync(lua, LUA);
    execFileSync('wrk', ['-t1', '-c', String(CONNECTIONS), '-d', '2s', '-s', lua, base], { stdio: 'ignore' }); // warm-up
    const cpu0 = workerdCpu();
    const out = execFileSync('wrk', ['-t1', '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '-s', lua, base], { encoding: 'utf8' });
    const cpu = workerdCpu() - cpu0;
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
    const rps = requests / SECONDS;
    console.log(`edge (workerd via wrangler dev, one site object, ${CONNECTIONS} connections, ${SECONDS} s): ${Math.round(rps)} hits/s, ` +
      `${((cpu / Math.max(requests, 1)) * 1000).toFixed(2)} ms CPU per hit in workerd, both processes (${cpu.toFixed(1)} s over ${requests} hits), ${errors} non-2xx`);
    stop();
    console.log(`  beside it, a bare Worker answering 202 through the same wrangler dev stack: ${Math.round(await bareWorker(dir, lua))} requests/s; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log(`edge bundle (wrangler deploy --dry-run): ${bundleSize(dir)}`);
  } finally {
    stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
