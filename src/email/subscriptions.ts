// Who gets which report: one row per user, site and period (week or month). Each row has a
// random secret; the unsubscribe link carries `<id>.<HMAC(secret, id)>`, so it works without a
// login, cannot be forged for another row, and dies with the row. `last_sent` is claimed with a
// compare-and-set before a mail goes out, so two ticks (or a restart) never send a period twice.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull, or, lt } from 'drizzle-orm';
import { emailSubscriptions } from '../../db/schema.ts';
import type { Db } from '../store/db.ts';
import type { PeriodKind } from './periods.ts';

export type Subscription = typeof emailSubscriptions.$inferSelect;

const sign = (s: Pick<Subscription, 'id' | 'secret'>) => createHmac('sha256', Buffer.from(s.secret, 'hex')).update(`unsubscribe ${s.id}`).digest('base64url');

/** The token of a subscription's unsubscribe link. */
export const unsubscribeToken = (s: Subscription) => `${s.id}.${sign(s)}`;

export class SubscriptionRepo {
  constructor(private readonly db: Db) {}

  list(): Subscription[] {
    return this.db.select().from(emailSubscriptions).orderBy(asc(emailSubscriptions.id)).all();
  }

  forUser(userId: number): Subscription[] {
    return this.db.select().from(emailSubscriptions).where(eq(emailSubscriptions.userId, userId)).all();
  }

  /**
   * Subscribes (idempotent). `lastSent` is the period already due now, so the first mail is the
   * next period's, not one at once for a period before the user asked.
   */
  subscribe(userId: number, siteId: number, period: PeriodKind, lastSent: string, now = Date.now()): void {
    this.db.insert(emailSubscriptions).values({ userId, siteId, period, secret: randomBytes(32).toString('hex'), lastSent, createdAt: now })
      .onConflictDoNothing().run();
  }

  unsubscribe(userId: number, siteId: number, period: PeriodKind): void {
    this.db.delete(emailSubscriptions).where(and(eq(emailSubscriptions.userId, userId), eq(emailSubscriptions.siteId, siteId), eq(emailSubscriptions.period, period))).run();
  }

  remove(id: number): void {
    this.db.delete(emailSubscriptions).where(eq(emailSubscriptions.id, id)).run();
  }

  /** The subscription a link's token names, if the signature is right. */
  byToken(token: string): Subscription | undefined {
    const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return undefined;
    const s = this.db.select().from(emailSubscriptions).where(eq(emailSubscriptions.id, Number(m[1]))).get();
    if (!s) return undefined;
    const a = Buffer.from(m[2]), b = Buffer.from(sign(s));
    return a.length === b.length && timingSafeEqual(a, b) ? s : undefined;
  }

  /** Marks `from` as sent unless it (or a later period) already is: true if this caller won. */
  claim(id: number, from: string): boolean {
    return this.db.update(emailSubscriptions).set({ lastSent: from })
      .where(and(eq(emailSubscriptions.id, id), or(isNull(emailSubscriptions.lastSent), lt(emailSubscriptions.lastSent, from)))).run().changes === 1;
  }

  /** Gives a claim back after a failed send, so the next tick tries again. */
  release(id: number, from: string, before: string | null): void {
    this.db.update(emailSubscriptions).set({ lastSent: before })
      .where(and(eq(emailSubscriptions.id, id), eq(emailSubscriptions.lastSent, from))).run();
  }
}
