// Two-factor login for an account: set up (a pending secret confirmed by its first code, then
// ten one-time recovery codes shown once and stored hashed), checked at login (a TOTP code or a
// recovery code, which is then deleted), and turned off (with a current code).
import { createHash, randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
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
    this.db.transaction((tx) => {
      tx.update(users).set({ totpSecret: user.totpPending, totpPending: null, totpLastStep: step }).where(eq(users.id, user.id)).run();
      tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id)).run();
      for (const c of codes) tx.insert(recoveryCodes).values({ userId: user.id, codeHash: hash(c) }).run();
    });
    return codes;
  }

  /** Checks a login's second factor: a fresh TOTP code, or an unused recovery code (used up here). */
  check(user: User, code: string, now = Date.now()): boolean {
    if (!user.totpSecret) return true;
    const step = verifyTotp(user.totpSecret, code, now, user.totpLastStep);
    if (step !== null) {
      this.db.update(users).set({ totpLastStep: step }).where(eq(users.id, user.id)).run();
      return true;
    }
    return this.db.delete(recoveryCodes).where(and(eq(recoveryCodes.userId, user.id), eq(recoveryCodes.codeHash, hash(code)))).run().changes > 0;
  }

  /** Turns two-factor login off, given a current code. */
  disable(user: User, code: string, now = Date.now()): boolean {
    if (!user.totpSecret || !this.check(user, code, now)) return false;
    this.db.update(users).set({ totpSecret: null, totpPending: null, totpLastStep: null }).where(eq(users.id, user.id)).run();
    this.db.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id)).run();
    return true;
  }

  remaining(user: User): number {
    return this.db.select({ id: recoveryCodes.id }).from(recoveryCodes).where(eq(recoveryCodes.userId, user.id)).all().length;
  }
}
