// `hush …args` run inside the test process: the same main() that src/cli/hush.ts runs, with the
// same environment ({...process.env, ...env}) and its stdout and stderr captured, its return
// value the exit code. A spawned `hush` costs ~1.5 s of CPU before it does anything (node, the
// tsx loader, every module of the CLI compiled and loaded); this costs that once per test file.
//
// For tests that are about what a command does, not about the process around it. What only a
// real process shows — the exit code as the shell sees it, nothing else on stderr (warnings,
// stack traces), standard input, signals — is tested with runCli/spawnHush from spawn-server.ts,
// at least once per command (test/cli.test.ts compares the two on a sample of every command).
//
// Not for `serve` past its argument checks (it would listen inside the test process), nor for
// reading standard input. Calls are run one at a time: process.env and the output streams are
// shared by the whole process.
import type { Writable } from 'node:stream';

type Result = { code: number; stdout: string; stderr: string };

let mainModule: Promise<typeof import('../../src/cli/main.ts')> | undefined;
let last: Promise<unknown> = Promise.resolve();

function capture(stream: Writable, sink: (s: string) => void): () => void {
  const original = stream.write;
  stream.write = ((chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => {
    sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }) as typeof stream.write;
  return () => { stream.write = original; };
}

async function runOnce(args: string[], env: Record<string, string>): Promise<Result> {
  const { main } = await (mainModule ??= import('../../src/cli/main.ts'));
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(env)) {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  }
  let stdout = '', stderr = '';
  const restoreOut = capture(process.stdout, (s) => (stdout += s));
  const restoreErr = capture(process.stderr, (s) => (stderr += s));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    restoreOut();
    restoreErr();
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Like runCli (same arguments but no standard input, same result), in this process. */
export function runCliInProcess(args: string[], env: Record<string, string>): Promise<Result> {
  const run = last.then(() => runOnce(args, env), () => runOnce(args, env));
  last = run.catch(() => undefined);
  return run;
}
