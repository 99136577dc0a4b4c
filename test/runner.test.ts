// test/run.mjs itself, against a tiny suite of its own in a temporary folder: a file that hangs
// is killed (with the process it started, even in a process group of its own) after HUSH_TEST_FILE_TIMEOUT_MS and reported as
// failed with its output so far; one that a leftover child keeps alive after its tests is killed
// too; the other files still run and pass; and SIGTERM to the runner kills the files it runs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './helpers/spawn-server.ts';
import { tempDir } from './helpers/harness.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UVU = import.meta.resolve('uvu');

/**
 * A process that lives 60 s at most (should this test fail, nothing lingers for long); `detached`
 * puts it in a process group of its own, as test/helpers/edge-dev.ts starts wrangler.
 */
const sleeper = (pidFile: string, detached = false) => `
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'pipe', detached: ${detached} });
writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
`;

function writeSuite(dir: string): void {
  writeFileSync(path.join(dir, 'a-ok.test.ts'), `import { suite } from '${UVU}';
const s = suite('ok');
s('passes', () => {});
s.run();
`);
  writeFileSync(path.join(dir, 'b-hang.test.ts'), `import { suite } from '${UVU}';
${sleeper(path.join(dir, 'hang.pid'), true)}
const s = suite('hang');
s('never ends', async () => {
  console.log('hang: waiting forever');
  await new Promise(() => { setInterval(() => {}, 1000); });
});
s.run();
`);
  writeFileSync(path.join(dir, 'c-linger.test.ts'), `import { suite } from '${UVU}';
${sleeper(path.join(dir, 'linger.pid'))}
const s = suite('linger');
s('passes but leaves its child running', () => {});
s.run();
`);
}

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    if (existsSync('/proc')) return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
async function gone(pid: number, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (!alive(pid)) return true;
  return !alive(pid);
}
async function waitForFile(file: string, ms = 30_000): Promise<number> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (existsSync(file) && readFileSync(file, 'utf8')) return Number(readFileSync(file, 'utf8'));
  }
  throw new Error(`${file} never appeared`);
}

function runner(dir: string, args: string[], env: Record<string, string>) {
  const child = track(spawn(process.execPath, [path.join(HERE, 'run.mjs'), ...args], {
    env: { ...process.env, HUSH_TEST_DIR: dir, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out })));
  return { child, done };
}

const r = suite('test/run.mjs: no test file can hang the run');
let dir: string, cleanup: () => void;
r.before.each(() => {
  ({ dir, cleanup } = tempDir());
  writeSuite(dir);
});
r.after.each(() => cleanup());

r('a hanging file is killed at the time limit, a lingering one after its grace; both fail, with their trees', async () => {
  const started = Date.now();
  const { code, out } = await runner(dir, [], { HUSH_TEST_FILE_TIMEOUT_MS: '10000', HUSH_TEST_EXIT_GRACE_MS: '1500' }).done;
  const took = Date.now() - started;
  assert.is(code, 1, out);
  assert.ok(took < 60_000, `the runner took ${took} ms`);
  assert.match(out, /✔ a-ok\.test\.ts {2}1\/1/);
  assert.match(out, /✘ b-hang\.test\.ts .*FAILED \(timed out after 10 s\)/);
  assert.match(out, /--- b-hang\.test\.ts: FAILED \(timed out after 10 s\)\n[^]*hang: waiting forever/, 'its output so far');
  assert.match(out, /✘ c-linger\.test\.ts {2}1\/1 .*FAILED \(still running 1\.5 s after its tests finished/);
  assert.match(out, /\n2 passed, 2 failed\n/);
  assert.ok(await gone(await waitForFile(path.join(dir, 'hang.pid'))), 'the hanging file\'s child was killed with it');
  assert.ok(await gone(await waitForFile(path.join(dir, 'linger.pid'))), 'the lingering file\'s child was killed with it');
});

r('SIGTERM to the runner kills the files it runs, and what they started', async () => {
  const run = runner(dir, ['hang'], { HUSH_TEST_FILE_TIMEOUT_MS: '120000' });
  const pid = await waitForFile(path.join(dir, 'hang.pid'));
  assert.ok(alive(pid));
  run.child.kill('SIGTERM');
  const { code, out } = await run.done;
  assert.is(code, 143, out);
  assert.match(out, /SIGTERM: stopped, 1 running test file\(s\) killed/);
  assert.ok(await gone(pid), 'the hanging file\'s child was killed');
});

r.run();
