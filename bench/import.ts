// Import throughput: a generated 1,000,000-line combined log (real browsers' user-agents from
// the shipped access log, random client addresses, time-ordered) through `hush import`, beside
// a baseline measured in the same run: reading and splitting the same file with readline and
// doing nothing else. Medians of BENCH_IMPORT_RUNS runs (default 3); peak RSS of the importer.
// BENCH_IMPORT_NODE_FLAGS adds node flags to the import process, e.g. "--heap-growing-percent=0
// --semi-space-growth-factor=2" to measure it with V8's default heap sizing (src/import/heap-tuning.ts).
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb } from '../src/store/db.ts';
import { SiteRepo } from '../src/store/sites.ts';
import { apacheLog } from '../test/helpers/fixtures.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const LINES = Number(process.env.BENCH_IMPORT_LINES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 3);
const NODE_FLAGS = (process.env.BENCH_IMPORT_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function agents(): string[] {
  return [...new Set(apacheLog().split('\n').map((l) => l.split('"')[5]).filter((u): u is string => !!u && u.length > 10))];
}

async function generate(file: string): Promise<void> {
  const uas = agents();
  const paths = ['/', '/blog/', '/blog/hello-world', '/docs/install', '/pricing', '/about', '/css/site.css', '/js/app.js', '/img/logo.png', '/favicon.ico', '/feed.xml', '/missing'];
  const refs = ['-', '-', 'https://www.google.com/', 'https://news.ycombinator.com/', 'https://example.com/blog/'];
  const out = createWriteStream(file);
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const start = Date.UTC(2026, 0, 5);
  const months = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
  for (let i = 0; i < LINES; i++) {
    const d = new Date(start + i * 250); // 4 requests a second: ~3 days of traffic
    const p2 = (n: number) => String(n).padStart(2, '0');
    const t = `${p2(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
    const p = paths[rnd(paths.length)];
    const status = p === '/missing' ? 404 : 200;
    const line = `${1 + rnd(223)}.${rnd(256)}.${rnd(256)}.${1 + rnd(254)} - - [${t}] "GET ${p} HTTP/1.1" ${status} ${rnd(90000)} "${refs[rnd(refs.length)]}" "${uas[rnd(uas.length)]}"\n`;
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

async function baseline(file: string): Promise<number> {
  const t = performance.now();
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file, { highWaterMark: 256 * 1024 }), crlfDelay: Infinity })) if (line) n++;
  return n / ((performance.now() - t) / 1000);
}

const work = mkdtempSync(path.join(tmpdir(), 'hush-import-bench-'));
try {
  const file = path.join(work, 'access.log');
  await generate(file);
  console.log(`\nimport: ${LINES.toLocaleString('en-US')} generated combined lines, ${RUNS} runs${NODE_FLAGS.length ? ` (node ${NODE_FLAGS.join(' ')})` : ''}`);
  const base: number[] = [], hush: number[] = [], rss: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    base.push(await baseline(file));
    const db = path.join(work, `hush-${run}.db`);
    const o = openDb(db);
    new SiteRepo(o.db).add({ domain: 'example.com' });
    o.close();
    const t = performance.now();
    const out = execFileSync(process.execPath, [...NODE_FLAGS, '--import', 'tsx', path.join(here, 'import-run.ts'), 'import', file, '--site', 'example.com', '--format', 'combined'], {
      env: { ...process.env, HUSH_DB: db }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    const secs = (performance.now() - t) / 1000;
    hush.push(LINES / secs);
    rss.push(Number(/MAXRSS (\d+)/.exec(out)?.[1] ?? 0) / 1024);
    console.log(`  run ${run + 1}: readline ${Math.round(base[run]).toLocaleString('en-US')} lines/s, hush import ${Math.round(hush[run]).toLocaleString('en-US')} lines/s (whole process, start-up included), peak RSS ${Math.round(rss[run])} MB`);
  }
  const h = median(hush), b = median(base);
  console.log(`  median: hush import ${Math.round(h).toLocaleString('en-US')} lines/s = ${(h / b).toFixed(3)} × readline baseline (${Math.round(b).toLocaleString('en-US')} lines/s); peak RSS ${Math.round(median(rss))} MB`);
  console.log('  target: ≥ 60,000 lines/s end to end, peak RSS ≤ 200 MB');
} finally {
  rmSync(work, { recursive: true, force: true });
}
