// Fathom Lite (usefathom/fathom, MIT; Go + SQLite, `GET /collect`) as a peer in the ingestion
// bench, started from a binary the operator built: BENCH_PEER_FATHOM=/path/to/fathom. Nothing here
// builds it or knows where its sources are. Start-up as the peer's own runner does it: a config
// file pointing at a SQLite database in a fresh temporary directory, `fathom --config FILE server`
// on 127.0.0.1, wait for GET /health, then create one site (tracking id LOADTEST) through
// POST /api/sites, which needs no login while the database has no user.
//
// What it does per hit, for a fair reading: parses the query string and the user-agent (bot
// filter), answers 200 before storing (a goroutine inserts batches of 100 or every second, so a
// crash loses what is buffered), never reads the client address, keeps no visitor hash (the
// browser says whether it is a new visitor) and aggregates unfinished pageviews only after 30
// minutes, so never during a bench run.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

export const FATHOM_SITE = 'LOADTEST';

export interface RunningPeer {
  child: ChildProcess;
  /** The base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One Fathom database for the whole bench (like Hush's); each start() is a new process on it. */
export class FathomPeer {
  readonly dir: string;
  readonly dbPath: string;
  private siteCreated = false;
  private live = new Set<ChildProcess>();
  private readonly onExit = () => { for (const c of this.live) c.kill('SIGKILL'); };

  constructor(readonly bin: string) {
    if (!existsSync(bin)) throw new Error(`BENCH_PEER_FATHOM=${bin}: no such file`);
    this.dir = mkdtempSync(path.join(tmpdir(), 'hush-bench-fathom-'));
    this.dbPath = path.join(this.dir, 'fathom.db');
    process.on('exit', this.onExit);
  }

  /** Starts the binary (through `wrap`, e.g. taskset) and resolves once it answers with the site created. */
  async start(wrap: (cmd: string[]) => string[]): Promise<RunningPeer> {
    const port = await freePort();
    const env = path.join(this.dir, 'fathom.env');
    writeFileSync(env, [
      'FATHOM_DATABASE_DRIVER=sqlite3',
      `FATHOM_DATABASE_NAME=${this.dbPath}`,
      `FATHOM_SERVER_ADDR=127.0.0.1:${port}`,
      'FATHOM_SECRET=bench',
      '',
    ].join('\n'));
    const [cmd, ...args] = wrap([this.bin, '--config', env, 'server']);
    const child = spawn(cmd, args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    this.live.add(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { if (err.length < 4000) err += d; });
    const exited = new Promise<void>((r) => child.once('exit', () => { this.live.delete(child); r(); }));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
      await exited;
    };
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`fathom exited with ${child.exitCode}: ${err}`);
        try {
          if ((await fetch(`${url}/health`)).ok) break;
        } catch { /* not listening yet */ }
        if (Date.now() > deadline) throw new Error(`fathom did not answer /health within 15 s: ${err}`);
        await sleep(100);
      }
      if (!this.siteCreated) {
        const r = await fetch(`${url}/api/sites`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: 'bench', trackingId: FATHOM_SITE }),
        });
        if (!r.ok) throw new Error(`fathom: creating the site answered ${r.status}: ${await r.text()}`);
        this.siteCreated = true;
      }
      return { child, url, stop };
    } catch (e) {
      await stop();
      throw e;
    }
  }

  /** Pageviews stored so far (read with the server stopped or idle). */
  stored(): number {
    const db = new Database(this.dbPath, { readonly: true, timeout: 5000 });
    try {
      return (db.prepare('SELECT count(*) AS n FROM pageviews').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  dispose(): void {
    this.onExit();
    process.off('exit', this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
