// Two-factor login for an account: set up (a pending secret confirmed by its first code, then
// ten one-time recovery codes shown once and stored hashed), checked at login (a TOTP code or a
// recovery code, which is then deleted), and turned off (with a current code).
// Using a code is one conditional write that succeeds only if it changed a row (issue 12): a
// step is taken by `UPDATE … WHERE totp_last_step < step`, a recovery code by its DELETE, so
// concurrent requests with the same code cannot both get in, whatever row each one read.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { recoveryCodes, users } from '../../db/schema.ts';
import type { Db } from '../store/db.ts';
import type { User } from './users.ts';
import { newSecret, verifyTotp } from './totp.ts';

const hash = (code: string) => createHash('sha256').update(code.replace(/[\s-]/g, '').toLowerCase()).digest('hex');
const RECOVERY_CODES = 10;

export class TwoFactor {
  constructor(private readonly db: Db) {}

  /** Starts a setup: a new pending secret (replacing any earlier pending one). */
  start(user: User): string {
    const secret = newSecret();
    this.db.update(users).set({ totpPending: secret }).where(eq(users.id, user.id)).run();
    return secret;
  }

  /** Confirms the pending secret with a code; returns the recovery codes, or null for a wrong code. */
  confirm(user: User, code: string, now = Date.now()): string[] | null {
    if (!user.totpPending) return null;
    const step = verifyTotp(user.totpPending, code, now, null);
    if (step === null) return null;
    const codes = Array.from({ length: RECOVERY_CODES }, () => randomBytes(5).toString('hex').replace(/^(.{5})/, '$1-'));
    // Only the pending secret this user read, and only while two-factor is off: a second,
    // concurrent confirmation changes nothing (and does not replace the codes just shown).
    return this.db.transaction((tx) => {
      const changed = tx.update(users).set({ totpSecret: user.totpPending, totpPending: null, totpLastStep: step })
        .where(and(eq(users.id, user.id), eq(users.totpPending, user.totpPending!), isNull(users.totpSecret))).run().changes;
      if (changed === 0) return null;
      tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id)).run();
      for (const c of codes) tx.insert(recoveryCodes).values({ userId: user.id, codeHash: hash(c) }).run();
      return codes;
    });
  }

  /**
   * Checks a second factor and uses it up: a fresh TOTP code (its step becomes the last used
   * one), or an unused recovery code (deleted). False without two-factor on: nothing to check.
   */
  check(user: User, code: string, now = Date.now()): boolean {
    if (!user.totpSecret) return false;
    const step = verifyTotp(user.totpSecret, code, now, user.totpLastStep);
    if (step !== null && this.useStep(user.id, user.totpSecret, step)) return true;
    return this.db.delete(recoveryCodes).where(and(eq(recoveryCodes.userId, user.id), eq(recoveryCodes.codeHash, hash(code)))).run().changes > 0;
  }

  /** Takes a step as the last used one, if no request took it (or a later one) first. */
  private useStep(userId: number, secret: string, step: number): boolean {
    return this.db.update(users).set({ totpLastStep: step })
      .where(and(eq(users.id, userId), eq(users.totpSecret, secret), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
      .run().changes > 0;
  }

  /** Turns two-factor login off, given a current code (used up like a login's). */
  disable(user: User, code: string, now = Date.now()): boolean {
    if (!user.totpSecret || !this.check(user, code, now)) return false;
    return this.db.transaction((tx) => {
      const changed = tx.update(users).set({ totpSecret: null, totpPending: null, totpLastStep: null })
        .where(and(eq(users.id, user.id), eq(users.totpSecret, user.totpSecret!))).run().changes;
      if (changed > 0) tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id)).run();
      return changed > 0;
    });
  }

  remaining(user: User): number {
    return this.db.select({ id: recoveryCodes.id }).from(recoveryCodes).where(eq(recoveryCodes.userId, user.id)).all().length;
  }
}
