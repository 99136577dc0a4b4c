// `npm run edge:dev`: Hush in the local Workers runtime (workerd, through wrangler), with its
// Durable Objects' SQLite files persisted inside the checkout (.wrangler/state, git-ignored).
//   --port N         listen port (default $PORT or 8787), on 127.0.0.1
//   --state DIR      where the objects' files go (default .wrangler/state)
//   --inspector-port N   the devtools port (default: wrangler's 9229)
//   anything else    passed to `wrangler dev` (e.g. a script to run instead of wrangler.toml's main: tests start
//                    test/helpers/edge-clock-worker.ts, whose clock a request may set; never deployed)
// HUSH_ADMIN_TOKEN in the environment turns on the admin API (/_hush/admin/sites) for this run
// (a `.dev.vars` file does the same for every run); HUSH_ROLLUP_MS sets the objects' rollup round,
// HUSH_JURISDICTION their jurisdiction (e.g. eu). Prints the URL once workerd serves.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) {
    console.error(`${name} needs a value`);
    process.exit(2);
  }
  args.splice(i, 2);
  return v;
}
const port = Number(option('--port', process.env.PORT || '8787'));
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('--port must be a port number (1-65535)');
  process.exit(2);
}
const state = path.resolve(option('--state', path.join(root, '.wrangler/state')));
const inspector = option('--inspector-port', undefined);

// The rest of the arguments go to wrangler first (`--var` takes every value after it).
const wranglerArgs = ['dev', ...args, '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state, '--show-interactive-dev-session=false'];
if (inspector) wranglerArgs.push('--inspector-port', inspector);
const vars = ['HUSH_ADMIN_TOKEN', 'HUSH_ROLLUP_MS', 'HUSH_JURISDICTION'].filter((v) => process.env[v]).map((v) => `${v}:${process.env[v]}`);
if (vars.length) wranglerArgs.push('--var', ...vars);

const child = spawn(path.join(root, 'node_modules/.bin/wrangler'), wranglerArgs, {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
  // Offline here and on CI: no usage metrics to send.
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
});
let announced = false;
const relay = (stream, out) => stream.on('data', (chunk) => {
  out.write(chunk);
  if (!announced && /Ready on http/.test(String(chunk))) {
    announced = true;
    console.log(`Hush (edge preview, workerd) listening on http://127.0.0.1:${port} — state in ${state.startsWith(root + path.sep) ? path.relative(root, state) : state}`);
  }
});
relay(child.stdout, process.stdout);
relay(child.stderr, process.stderr);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
