// The URL a spawned Hush server prints once it listens ("listening on http://…"), or an error
// with what it printed when it does not within `ms` (or exits first). Shared by the benches.
import type { ChildProcess } from 'node:child_process';

export function listeningUrl(child: ChildProcess, ms: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`server did not start within ${ms} ms: ${out}`)), ms);
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`server exited with ${code}: ${out}`)); });
    const on = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]); }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}
