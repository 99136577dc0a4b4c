// The Worker's share of Hush's CPU time in workerd, by V8's own sampling profiler (run by
// bench/edge.ts in a child process: `node --experimental-websocket --import tsx bench/edge-profile.ts
// <inspector ws url> <entry url> <wrk lua script> <seconds>`; Node 20 has WebSocket behind that flag).
// The Worker and the site's Durable Object run in one isolate on one thread, so the process's CPU
// cannot tell them apart; the profiler can. Each sample goes to the object when the outermost
// JavaScript frame under it belongs to the object's code — a SiteStore method (an RPC call, or its
// continuation after an await) or the Batcher's flush timer (which runs HitWriter and SQLite) —
// and to the Worker otherwise (fetch, Hono, the collector, continuations of its awaits). Samples of
// (program) and (garbage collector) have no JavaScript frame: they are shared in proportion.
// Prints one JSON line: {worker, object, program, gc, idle} in ms of samples, and the 2xx count.
import { execFileSync } from 'node:child_process';

const [wsUrl, entry, lua, seconds] = process.argv.slice(2);
if (!wsUrl || !entry || !lua || !seconds) {
  console.error('usage: edge-profile.ts <inspector ws url> <entry url> <wrk lua> <seconds>');
  process.exit(2);
}

const debug = (m: string) => { if (process.env.BENCH_EDGE_DEBUG) console.error(`edge-profile: ${m}`); };

interface CallFrame { functionName: string; scriptId: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

// wrangler's inspector proxy wants an Origin (Node's WebSocket takes headers as an extension).
const ws = new WebSocket(wsUrl, { headers: { Origin: 'http://127.0.0.1' } } as unknown as string[]);
await new Promise<void>((resolve, reject) => {
  ws.addEventListener('open', () => resolve());
  ws.addEventListener('error', () => reject(new Error(`could not connect to ${wsUrl}`)));
});
ws.addEventListener('close', (e) => debug(`closed ${e.code} ${e.reason}`));
let nextId = 0;
const waiting = new Map<number, { needResult: boolean; done: (r: { result?: unknown; error?: { message: string } }) => void }>();
const scripts: Array<{ scriptId: string; url: string }> = [];
ws.addEventListener('message', (m) => {
  const msg = JSON.parse(String(m.data));
  if (msg.method === 'Debugger.scriptParsed') scripts.push({ scriptId: msg.params.scriptId, url: msg.params.url });
  const w = msg.id !== undefined ? waiting.get(msg.id) : undefined;
  // wrangler's inspector proxy answers some requests by relaying them back (with their method
  // and no result): enough for the calls whose result is not read.
  if (!w || (w.needResult && msg.result === undefined && msg.error === undefined)) return;
  waiting.delete(msg.id);
  w.done(msg);
});
async function send<T>(method: string, params: Record<string, unknown> = {}, needResult = false): Promise<T> {
  const id = ++nextId;
  const r = await new Promise<{ result?: unknown; error?: { message: string } }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${method}: no answer within 60 s`)), 60_000);
    waiting.set(id, { needResult, done: (x) => { clearTimeout(t); resolve(x); } });
    ws.send(JSON.stringify({ id, method, params }));
  });
  if (r.error) throw new Error(`${method}: ${r.error.message}`);
  return r.result as T;
}

/**
 * Lines [first, last] (0-based) of a top-level `var Name = class … {` in the bundle: esbuild prints
 * top-level statements at column 0, so the class ends at the next line that is exactly `};`.
 */
function classLines(source: string[], name: string): [number, number] | null {
  const first = source.findIndex((l) => l.startsWith(`var ${name} = class`));
  if (first < 0) return null;
  const last = source.findIndex((l, i) => i > first && l === '};');
  return last < 0 ? null : [first, last];
}

// The bundle's source, to find the object's classes in it; the debugger is off again before profiling.
debug('connected');
await send('Debugger.enable');
await new Promise((r) => setTimeout(r, 300));
debug(`${scripts.length} scripts`);
let ranges: Array<{ scriptId: string; lines: [number, number] }> = [];
for (const s of scripts) {
  if (!s.url.startsWith('file:')) continue; // the bundle, not the runtime's own modules
  debug(`source of ${s.url}`);
  const { scriptSource } = await send<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId: s.scriptId }, true);
  if (!scriptSource.includes('var SiteStore = class')) continue;
  const lines = scriptSource.split('\n');
  ranges = ['SiteStore', 'Batcher'].map((n) => classLines(lines, n)).filter((x): x is [number, number] => x !== null).map((l) => ({ scriptId: s.scriptId, lines: l }));
}
await send('Debugger.disable');
if (ranges.length !== 2) throw new Error('SiteStore and Batcher were not found in the Worker bundle');

await send('Profiler.enable');
await send('Profiler.setSamplingInterval', { interval: 250 });
await send('Profiler.start');
const out = execFileSync('wrk', ['-t1', '-c', '50', '-d', `${seconds}s`, '-s', lua, entry], { encoding: 'utf8' });
const { profile } = await send<{ profile: Profile }>('Profiler.stop', {}, true);
ws.close();

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inObject = (f: CallFrame) => ranges.some((r) => r.scriptId === f.scriptId && f.lineNumber >= r.lines[0] && f.lineNumber <= r.lines[1]);
/** Where a sample's time goes, by its stack (cached per node). */
const kindOf = new Map<number, 'worker' | 'object' | 'program' | 'gc' | 'idle'>();
function kind(id: number): 'worker' | 'object' | 'program' | 'gc' | 'idle' {
  const known = kindOf.get(id);
  if (known) return known;
  const leaf = byId.get(id)!.callFrame.functionName;
  let k: 'worker' | 'object' | 'program' | 'gc' | 'idle';
  if (leaf === '(idle)') k = 'idle';
  else if (leaf === '(program)') k = 'program';
  else if (leaf === '(garbage collector)') k = 'gc';
  else {
    // The outermost JavaScript frame (closest to the root) decides.
    let outer: CallFrame | null = null;
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const f = byId.get(n)!.callFrame;
      if (f.scriptId !== '0') outer = f; // native frames and (root) have no script
    }
    k = outer && inObject(outer) ? 'object' : 'worker';
  }
  kindOf.set(id, k);
  return k;
}
const ms = { worker: 0, object: 0, program: 0, gc: 0, idle: 0 };
profile.samples.forEach((s, i) => { ms[kind(s)] += (profile.timeDeltas[i] ?? 0) / 1000; });
const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
if (process.env.BENCH_EDGE_DEBUG) {
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const key = `${kind(id)} ${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) debug(`${v.toFixed(1)} ms ${k}`);
}
console.log(JSON.stringify({ ...ms, hits: requests - errors }));
// The inspector's socket may not close promptly; nothing is left to wait for.
process.exit(0);
