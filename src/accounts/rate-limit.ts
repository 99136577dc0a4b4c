// Failed-login limits, in memory (one server process): per client network (the /24 or /48
// prefix, never the address) and per account, a sliding window of failures. 10 per prefix and
// 5 per account in 15 minutes; then attempts are refused until the oldest failure ages out.
//
// An attempt is *reserved* before its secret is checked, synchronously (no await between the
// look and the count), and counts as a failure while in flight; only a success (or a neutral
// outcome) takes it back. Checking first and counting after the ~60 ms scrypt let a burst of 25
// parallel logins all reach the hash (issue 12): now at most 5 per account, 10 per network can.
export interface Limits { perPrefix: number; perAccount: number; windowMs: number }
export const DEFAULT_LIMITS: Limits = { perPrefix: 10, perAccount: 5, windowMs: 15 * 60_000 };

const SWEEP_MS = 60_000;

/** One reserved attempt; `done` once it ended as a failure (a settled failure). */
interface Mark { at: number; done: boolean }

/** A reserved attempt. The first of its three calls decides; later ones do nothing. */
export interface Attempt {
  /** The secret was wrong: it stays counted as a failure. */
  fail(): void;
  /** The secret was right: it stops counting, and the account's settled failures are forgotten. */
  succeed(): void;
  /** Neither (a password right but a second factor still to come): it stops counting. */
  release(): void;
}

/** `attempt` to go on, or null with the milliseconds until one may be tried again. */
export type Reservation = { attempt: Attempt; wait: 0 } | { attempt: null; wait: number };

export class LoginLimiter {
  private readonly marks = new Map<string, Mark[]>();
  private swept = 0;
  constructor(private readonly limits: Limits = DEFAULT_LIMITS) {}

  private recent(key: string, now: number): Mark[] {
    const list = (this.marks.get(key) ?? []).filter((m) => now - m.at < this.limits.windowMs);
    if (list.length) this.marks.set(key, list);
    else this.marks.delete(key);
    return list;
  }

  private drop(key: string, keep: (m: Mark) => boolean): void {
    const list = (this.marks.get(key) ?? []).filter(keep);
    if (list.length) this.marks.set(key, list);
    else this.marks.delete(key);
  }

  /**
   * Reserves an attempt for a network and an account, or says how long to wait. Synchronous:
   * call it after the last await before the check, and settle the attempt after the check.
   */
  reserve(prefix: string, account: string, now = Date.now()): Reservation {
    this.sweep(now);
    const wait = this.retryIn(prefix, account, now);
    if (wait > 0) return { attempt: null, wait };
    const keys = [`p:${prefix}`, `a:${account}`];
    const mark: Mark = { at: now, done: false };
    for (const key of keys) this.marks.set(key, [...(this.marks.get(key) ?? []), mark]);
    let settled = false;
    const settle = (f: () => void) => () => {
      if (settled) return;
      settled = true;
      f();
    };
    const unmark = () => {
      for (const key of keys) this.drop(key, (m) => m !== mark);
    };
    return {
      wait: 0,
      attempt: {
        fail: settle(() => { mark.done = true; }),
        release: settle(unmark),
        // In-flight attempts of others stay counted: only finished failures are forgiven.
        succeed: settle(() => {
          unmark();
          this.drop(keys[1], (m) => !m.done);
        }),
      },
    };
  }

  /**
   * Forgets every key whose marks have all aged out, at most once a minute. Keys are otherwise
   * only cleaned when asked about again: guesses from many networks (IPv6 /48s are cheap) would
   * grow the map by one key each, for good.
   */
  private sweep(now: number): void {
    if (now - this.swept < SWEEP_MS) return;
    this.swept = now;
    for (const key of [...this.marks.keys()]) this.recent(key, now);
  }

  /** Milliseconds until an attempt may be reserved, or 0. In-flight attempts count. */
  retryIn(prefix: string, account: string, now = Date.now()): number {
    let wait = 0;
    for (const [key, max] of [[`p:${prefix}`, this.limits.perPrefix], [`a:${account}`, this.limits.perAccount]] as const) {
      const list = this.recent(key, now);
      if (list.length >= max) wait = Math.max(wait, list[list.length - max].at + this.limits.windowMs - now);
    }
    return wait;
  }
}

/** "N minutes" until a refused attempt may be retried, for messages. */
export function minutesText(waitMs: number): string {
  const minutes = Math.ceil(waitMs / 60_000);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
