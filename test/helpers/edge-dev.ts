// Starts `npm run edge:dev` (wrangler + the real workerd) on free ports with a temp state folder,
// for a test file; killed with its whole process group by stop() and on exit. `probeWorkerd` says
// whether the workerd binary can run on this machine at all (if not, edge tests skip loudly).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './harness.ts';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function probeWorkerd(): { ok: boolean; why: string } {
  const probe = spawnSync(path.join(ROOT, 'node_modules/.bin/workerd'), ['--version'], { encoding: 'utf8', timeout: 15_000 });
  return { ok: probe.status === 0, why: (probe.error?.message ?? probe.stderr ?? '').trim().slice(0, 200) };
}

/** A port nothing listens on now (the OS's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface EdgeDev {
  base: string;
  stateDir: string;
  output(): string;
  stop(): void;
}

/** `extra`: more arguments for wrangler, e.g. a test entry as the script. */
export async function startEdgeDev(env: Record<string, string>, extra: string[] = []): Promise<EdgeDev> {
  const state = tempDir();
  const [port, inspector] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'scripts/edge-dev.mjs'), '--port', String(port),
    '--state', path.join(state.dir, 'state'), '--inspector-port', String(inspector), ...extra], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // wrangler and the workerd it started
      } catch {
        /* already gone */
      }
    }
    state.cleanup();
  };
  process.on('exit', stop);
  // wrangler builds the bundle first: ~10 s on a quiet machine, much longer with several test files at once.
  const until = Date.now() + 90_000;
  while (!/listening on (http:\/\/127\.0\.0\.1:\d+)/.test(output)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm run edge:dev exited before serving:\n${output.slice(-3000)}`);
    if (Date.now() > until) {
      stop();
      throw new Error(`npm run edge:dev did not serve within 90 s:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base: /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1], stateDir: path.join(state.dir, 'state'), output: () => output, stop };
}
