// npm run bench (or `npx tsx bench/pipeline.ts`): the request pipeline alone — a POST /api/event
// body and its request facts in, the Hit handed to a sink that resolves at once — through the real
// Collector with the deps src/server/core.ts builds (the shipped country tables, a KeyRing, an
// AgentCache, a ClientIpResolver trusting 127.0.0.1/32, a SiteDirectory with example.com). The
// request mix is bench/ingest.ts's: a new client address per hit (X-Forwarded-For from the trusted
// proxy), the shipped access log's browser user-agents, its six pages and five referrers. Each
// request's strings are fresh flat strings, as an HTTP layer decodes them (a reused string would
// carry its cached hash into the caches' lookups).
//
// Figures per hit: CPU µs (process.cpuUsage, all threads — GC helpers included — over a batch) and
// bytes allocated (heap used after a batch minus before it, GC forced before and none during: the
// young generation is made large enough for a batch). BENCH_PIPELINE_IPV6=0.3 makes that share of
// the client addresses IPv6 (global unicast). BENCH_PIPELINE_BASE=<a checkout of another
// commit, with node_modules> runs that tree's pipeline too, interleaved batch by batch in the same
// process over the same requests, and checks both give the same hits. Medians of BENCH_PIPELINE_RUNS.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import { isbot } from 'isbot';
import { apacheLog } from '../test/helpers/fixtures.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, '..');
const gc = (globalThis as { gc?: () => void }).gc;

const MODE = process.env.BENCH_PIPELINE_MODE;
if (!gc || !MODE) {
  // Two runs, each with a forcible GC: CPU with V8's default heap, so that scavenges cost what they
  // cost a server; allocation with a young generation fixed large enough for a whole batch.
  for (const [mode, flags] of [['cpu', []], ['alloc', ['--min-semi-space-size=64', '--max-semi-space-size=64']]] as const) {
    const r = spawnSync(process.execPath, ['--expose-gc', ...flags, '--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: 'inherit', cwd: ROOT, env: { ...process.env, BENCH_PIPELINE_MODE: mode } });
    if (r.status !== 0) throw new Error(`bench/pipeline.ts failed (${r.status ?? r.signal})`);
  }
} else {
  await main(gc, MODE === 'alloc');
}

async function main(gc: () => void, alloc: boolean): Promise<void> {
  const RUNS = Number(process.env.BENCH_PIPELINE_RUNS ?? process.env.BENCH_RUNS ?? 7);
  const HITS = Number(process.env.BENCH_PIPELINE_HITS ?? 20_000);
  const ALLOC_HITS = 2000;
  /** Hits compared field by field between the trees before the measured runs. */
  const CHECKED = 2000;
  /** The share of IPv6 clients (0 by default, as in bench/ingest.ts: every address IPv4). */
  const V6_SHARE = Number(process.env.BENCH_PIPELINE_IPV6 ?? 0);
  const base = process.env.BENCH_PIPELINE_BASE;
  const trees = [...(base ? [{ label: 'base', root: path.resolve(base) }] : []), { label: 'this', root: ROOT }];

  const PATHS = ['/', '/pricing', '/blog/hello-world', '/docs/getting-started', '/about', '/blog/privacy?utm_source=newsletter&utm_medium=email'];
  const REFS = ['', 'https://www.google.com/', 'https://news.ycombinator.com/item?id=1', 'https://t.co/abc', 'https://duckduckgo.com/'];
  const uaSet = new Set<string>();
  for (const line of apacheLog().split('\n')) {
    const ua = line.split('"')[5];
    if (ua && ua.length > 20 && !isbot(ua) && !ua.includes('\\') && !ua.includes(']]')) uaSet.add(ua);
  }
  const UAS = [...uaSet];

  interface Req { body: string; facts: { peer: string; forwardedFor: string | null; userAgent: string | null; acceptLanguage: string | null; dnt: string | null; gpc: string | null } }
  let seed = 0x2545f491;
  const rand = (n: number) => { // mulberry32: the same sequence for every tree
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
  const fresh = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
  const requests = (n: number): Req[] => {
    const out: Req[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const ip = V6_SHARE > 0 && rand(1000) < V6_SHARE * 1000
        ? `2${rand(4096).toString(16).padStart(3, '0')}:${rand(65536).toString(16)}:${rand(65536).toString(16)}:${rand(65536).toString(16)}::${rand(65536).toString(16)}`
        : `${1 + rand(223)}.${rand(256)}.${rand(256)}.${1 + rand(254)}`;
      const p = PATHS[rand(PATHS.length)], r = REFS[rand(REFS.length)], ua = UAS[rand(UAS.length)];
      const body = `{"n":"pageview","u":"https://example.com${p}","d":"example.com","r":"${r}","sw":1440,"l":"en-US","b":18342,"s":200,"lt":420}`;
      out[i] = { body: fresh(body), facts: { peer: fresh('127.0.0.1'), forwardedFor: fresh(ip), userAgent: fresh(ua), acceptLanguage: null, dnt: null, gpc: null } };
    }
    return out;
  };

  type Hit = Record<string, unknown>;
  interface Pipe { label: string; collect(body: string, facts: Req['facts']): unknown; last: Hit[] }
  const pipes: Pipe[] = [];
  const day = Date.UTC(2026, 5, 1, 12); // noon: no hit is near midnight, as most are not
  for (const { label, root } of trees) {
    const mod = (rel: string) => import(pathToFileURL(path.join(root, rel)).href);
    const [{ Collector }, { loadCountryTables }, { KeyRing, memoryKeyStore }, { AgentCache }, { ClientIpResolver, parseCidrList }, { SiteDirectory }] = await Promise.all([
      mod('src/collector/collect.ts'), mod('src/pseudonymize/country-data.ts'), mod('src/pseudonymize/daily-keys.ts'),
      mod('src/collector/user-agent.ts'), mod('src/collector/client-ip.ts'), mod('src/store/sites.ts'),
    ]);
    const keyBytes = Buffer.alloc(32, 7); // one fixed key, so both trees give the same ids
    const keys = new KeyRing(memoryKeyStore(), () => Buffer.from(keyBytes));
    const pipe: Pipe = { label, collect: () => undefined, last: [] };
    const collector = new Collector({
      precision: 'default',
      sites: new SiteDirectory({ list: () => [{ id: 1, domain: 'example.com', timezone: 'UTC', excludePaths: '' }] }),
      agents: new AgentCache(),
      countries: await loadCountryTables(),
      keys: { current: (now: number) => keys.current(now), previous: (now: number) => keys.previous(now) },
      resolver: new ClientIpResolver(parseCidrList('127.0.0.1/32')),
      clock: () => day,
      sink: { submit: (hit: Hit) => { if (pipe.last.length < CHECKED) pipe.last.push(hit); return Promise.resolve('ok'); } },
    });
    pipe.collect = (body, facts) => collector.collectBody(body, facts);
    pipes.push(pipe);
  }

  const runBatch = async (pipe: Pipe, reqs: Req[]) => {
    for (let i = 0; i < reqs.length; i++) {
      const r = await pipe.collect(reqs[i].body, reqs[i].facts) as { status: number };
      if (r.status !== 202) throw new Error(`${pipe.label}: status ${r.status}`);
    }
  };

  // Warm-up (every UA parsed once, the JIT settled), then the same hits compared across trees.
  for (const pipe of pipes) await runBatch(pipe, requests(UAS.length * 4));
  const check = requests(CHECKED);
  for (const pipe of pipes) { pipe.last = []; await runBatch(pipe, check); }
  const show = (h: Hit) => JSON.stringify(h, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
  for (const pipe of pipes.slice(1)) {
    for (let i = 0; i < check.length; i++) {
      if (show(pipe.last[i]) !== show(pipes[0].last[i])) throw new Error(`hit ${i} differs between ${pipes[0].label} and ${pipe.label}`);
    }
  }

  let gcs = 0;
  const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
  obs.observe({ entryTypes: ['gc'] });
  const settle = () => new Promise((r) => setTimeout(r, 20));

  const cpu: Record<string, number[]> = {}, bytes: Record<string, number[]> = {};
  for (const p of pipes) { cpu[p.label] = []; bytes[p.label] = []; }
  for (let run = 0; run < RUNS; run++) {
    const reqs = requests(alloc ? ALLOC_HITS : HITS);
    // Alternate which tree goes first, so neither always runs on a warmer or cooler machine.
    const order = run % 2 ? [...pipes].reverse() : pipes;
    for (const pipe of order) {
      gc(); await settle();
      if (alloc) {
        const before = gcs, h0 = v8.getHeapStatistics().used_heap_size;
        await runBatch(pipe, reqs);
        const h1 = v8.getHeapStatistics().used_heap_size;
        await settle();
        if (gcs === before) bytes[pipe.label].push((h1 - h0) / reqs.length);
      } else {
        const c0 = process.cpuUsage();
        await runBatch(pipe, reqs);
        const c = process.cpuUsage(c0);
        cpu[pipe.label].push((c.user + c.system) / reqs.length);
      }
    }
  }
  obs.disconnect();

  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };
  const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  if (!alloc) console.log(`\npipeline: medians of ${RUNS} interleaved batches of ${HITS} hits (CPU) and ${ALLOC_HITS} (allocation)`);
  for (const p of pipes) {
    const xs = alloc ? bytes[p.label] : cpu[p.label];
    const what = alloc ? `${median(xs).toFixed(0).padStart(6)} B/hit allocated ` : `${median(xs).toFixed(2).padStart(6)} µs CPU/hit         `;
    console.log(`  ${p.label.padEnd(5)} ${what} (${xs.map((x) => x.toFixed(alloc ? 0 : 1)).join(' ')}; load ${load})`);
  }
  if (pipes.length === 2) {
    // Batches of one round ran side by side: the median of their differences is the steadier figure.
    const [a, b] = pipes.map((p) => (alloc ? bytes[p.label] : cpu[p.label]));
    const diffs = b.slice(0, a.length).map((x, i) => x - a[i]);
    console.log(`  ${pipes[1].label} − ${pipes[0].label}: median ${median(diffs).toFixed(alloc ? 0 : 2)} ${alloc ? 'B' : 'µs'}/hit over paired batches`);
  }
}
