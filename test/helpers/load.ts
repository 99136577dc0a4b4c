// Sustained ingestion for the operations tests: `concurrency` loops post page views with unique
// paths to a real server as fast as it answers, and remember which paths got a 202 (and when),
// a 503, or anything else, so a test can check afterwards that every acknowledged hit is stored.
import { UA } from './harness.ts';

export interface Load {
  /** path → time its 202 arrived (performance.now()). */
  acked: Map<string, number>;
  /** paths answered 503, with the Retry-After header seen. */
  unavailable: Map<string, string | null>;
  /** other statuses, counted. */
  other: Map<number, number>;
  sent(): number;
  /** Stops the loops and waits for the requests in flight. */
  stop(): Promise<void>;
}

export function startLoad(url: string, opts: { concurrency?: number; prefix?: string; headers?: (i: number) => Record<string, string>; domain?: string } = {}): Load {
  const acked = new Map<string, number>(), unavailable = new Map<string, string | null>(), other = new Map<number, number>();
  let n = 0, stopping = false;
  const domain = opts.domain ?? 'example.com';
  const loop = async () => {
    while (!stopping) {
      const i = n++;
      const p = `${opts.prefix ?? '/h/'}${i}`;
      try {
        const r = await fetch(`${url}/api/event`, {
          method: 'POST', body: JSON.stringify({ n: 'pageview', u: `https://${domain}${p}`, d: domain }),
          headers: { 'Content-Type': 'text/plain', 'User-Agent': UA.firefox, ...opts.headers?.(i) },
        });
        await r.arrayBuffer();
        if (r.status === 202 && !r.headers.get('x-hush-dropped')) acked.set(p, performance.now());
        else if (r.status === 503) unavailable.set(p, r.headers.get('retry-after'));
        else other.set(r.status, (other.get(r.status) ?? 0) + 1);
      } catch {
        other.set(0, (other.get(0) ?? 0) + 1);
      }
    }
  };
  const loops = Array.from({ length: opts.concurrency ?? 8 }, loop);
  return {
    acked, unavailable, other, sent: () => n,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
