// Runs every test/*.test.ts file in its own process (uvu + tsx) and guards against the silent
// pass uvu gives a file that forgets `.run()`: each file must report tests, and must call
// `.run()` as often as it declares suites. Prints a final "N passed, N failed" line.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).filter((f) => !only.length || only.some((o) => f.includes(o))).sort();
const PARALLEL = 2;

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, file)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ file, code, out, ms: Date.now() - started }));
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
    passed += ok; skipped += skip; failed += Math.max(0, total - ok - skip);
    let verdict = r.code === 0 ? 'ok' : 'FAILED';
    if (total === 0) { verdict = 'FAILED (no tests ran)'; failed++; }
    if (suites !== runs) { verdict = `FAILED (${suites} suites, ${runs} .run() calls)`; failed++; }
    if (r.code !== 0 && total - ok - skip === 0) failed++; // crashed outside a test
    console.log(`${verdict === 'ok' ? '✔' : '✘'} ${f}  ${ok}/${total} in ${(r.ms / 1000).toFixed(1)}s`);
    if (verdict !== 'ok') problems.push(`--- ${f}: ${verdict}\n${r.out}`);
    else if (/SKIPPED LOUDLY/.test(r.out)) console.log(r.out.split('\n').filter((l) => l.includes('SKIPPED LOUDLY')).join('\n'));
  }
}
await Promise.all(Array.from({ length: PARALLEL }, worker));
for (const p of problems) console.log(p);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && files.length > 0 ? 0 : 1);
