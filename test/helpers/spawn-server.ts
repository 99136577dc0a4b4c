// Starts `hush serve` as a real child process on a free port and captures everything it logs,
// so tests can kill it (-9 or SIGTERM) and scan its output; runs other `hush` commands to the end.
//
// No child started here outlives the test process: each one is kept in a registry until it has
// exited. killChildren() ends every live one (call it from an `after`/`after.each` hook, which
// uvu runs even when a test throws), and on the test process's 'exit' (however it comes: the
// end of the file, process.exit(), an uncaught error) and on SIGINT/SIGTERM/SIGHUP whatever is
// still alive gets SIGKILL. test/run.mjs adds a per-file time limit that kills the whole tree.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Waits until the output matches (or fails after 10 s). */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /**
   * Sends `signal` (SIGTERM by default) unless the process has already ended, and resolves with
   * its exit code or signal name; if it is still alive after `graceMs`, it gets SIGKILL.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

// ---------------------------------------------------------------------------------------------
// The registry of live children.
const live = new Set<ChildProcess>();
const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

function killAllNow(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

let hooked = false;
function hookProcess(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllNow();
      process.kill(process.pid, sig); // our listener is gone: the default action ends the process
    });
  }
}

/** Registers a child process so that it is killed with the others (see the top of this file). */
export function track<T extends ChildProcess>(child: T): T {
  hookProcess();
  if (running(child)) {
    live.add(child);
    child.once('exit', () => live.delete(child));
  }
  return child;
}

/** SIGKILLs every child started here that is still running, and waits until they have exited. */
export async function killChildren(): Promise<void> {
  await Promise.all([...live].map((c) => new Promise<void>((resolve) => {
    if (!running(c)) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  })));
}

/** `hush …args` as a tracked child process, its stdout and stderr piped. */
export function spawnHush(args: string[], env: Record<string, string>, stdin: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
  return track(spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/hush.ts'), ...args], {
    env: { ...process.env, ...env }, stdio: [stdin, 'pipe', 'pipe'], cwd: ROOT,
  }));
}

// ---------------------------------------------------------------------------------------------
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnHush(args, env, 'pipe');
    let stdout = '', stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdin!.on('error', () => { /* the command exited without reading its input */ });
    child.stdin!.end(input ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawnHush(['serve'], { PORT: '0', HOST: '127.0.0.1', ...env });
  let out = '';
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a half-started server behind
      reject(new Error(`server did not start:\n${out}`));
    }, 20_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited:\n${out}`));
    });
  });
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 400; i++) {
      const m = re.exec(out);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`output never matched ${re}:\n${out}`);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) => {
    if (running(child)) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return { url, child, output: () => out, exited, waitFor, stop };
}
