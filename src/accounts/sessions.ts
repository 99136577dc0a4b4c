// Server-side sessions: the cookie carries 32 random bytes; the table keeps their SHA-256, the
// user, a CSRF secret and the times. A session ends on logout (its row is deleted), after 7 days
// without a request, or 30 days after login, whichever comes first.
import { createHash, randomBytes } from 'node:crypto';
import { eq, lt, or } from 'drizzle-orm';
import { sessions } from '../../db/schema.ts';
import type { Db } from '../store/db.ts';

export const SESSION_COOKIE = 'hush_session';
export const IDLE_MS = 7 * 86_400_000;
export const MAX_AGE_MS = 30 * 86_400_000;
// Writing seen_at on every request would make each page view a write; a minute is precise enough.
const TOUCH_MS = 60_000;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export interface Session {
  userId: number;
  csrf: string;
}

export class SessionStore {
  constructor(private readonly db: Db) {}

  /** Starts a session; returns the cookie token (shown to the browser only). */
  create(userId: number, now = Date.now()): { token: string; csrf: string } {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    this.db.insert(sessions).values({ tokenHash: hash(token), userId, csrf, createdAt: now, seenAt: now, expiresAt: now + MAX_AGE_MS }).run();
    return { token, csrf };
  }

  /** The live session of a cookie token, or null (unknown, logged out, idle or expired). */
  get(token: string | undefined, now = Date.now()): Session | null {
    if (!token || token.length > 100) return null;
    const row = this.db.select().from(sessions).where(eq(sessions.tokenHash, hash(token))).get();
    if (!row) return null;
    if (now >= row.expiresAt || now - row.seenAt >= IDLE_MS) {
      this.db.delete(sessions).where(eq(sessions.tokenHash, row.tokenHash)).run();
      return null;
    }
    if (now - row.seenAt > TOUCH_MS) this.db.update(sessions).set({ seenAt: now }).where(eq(sessions.tokenHash, row.tokenHash)).run();
    return { userId: row.userId, csrf: row.csrf };
  }

  destroy(token: string): void {
    this.db.delete(sessions).where(eq(sessions.tokenHash, hash(token))).run();
  }

  /** Deletes ended sessions (housekeeping). */
  purge(now = Date.now()): number {
    return this.db.delete(sessions).where(or(lt(sessions.expiresAt, now + 1), lt(sessions.seenAt, now - IDLE_MS + 1))).run().changes;
  }
}
