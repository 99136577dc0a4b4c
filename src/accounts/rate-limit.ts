// Failed-login limits, in memory (one server process): per client network (the /24 or /48
// prefix, never the address) and per account, a sliding window of failures. 10 per prefix and
// 5 per account in 15 minutes; then logins are refused until the oldest failure ages out.
export interface Limits { perPrefix: number; perAccount: number; windowMs: number }
export const DEFAULT_LIMITS: Limits = { perPrefix: 10, perAccount: 5, windowMs: 15 * 60_000 };

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(private readonly limits: Limits = DEFAULT_LIMITS) {}

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < this.limits.windowMs);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  /** Milliseconds until a login may be tried again, or 0 when it may now. */
  retryIn(prefix: string, account: string, now = Date.now()): number {
    let wait = 0;
    for (const [key, max] of [[`p:${prefix}`, this.limits.perPrefix], [`a:${account}`, this.limits.perAccount]] as const) {
      const list = this.recent(key, now);
      if (list.length >= max) wait = Math.max(wait, list[list.length - max] + this.limits.windowMs - now);
    }
    return wait;
  }

  fail(prefix: string, account: string, now = Date.now()): void {
    for (const key of [`p:${prefix}`, `a:${account}`]) this.failures.set(key, [...this.recent(key, now), now]);
  }

  succeed(account: string): void {
    this.failures.delete(`a:${account}`);
  }
}
