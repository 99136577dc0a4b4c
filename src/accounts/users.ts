// Dashboard users and which sites they may see. The first user (created at setup) is an admin:
// every site, and the settings. Others see the sites they are members of, as owner or viewer.
import { and, asc, count, eq } from 'drizzle-orm';
import { memberships, sites, users } from '../../db/schema.ts';
import type { Db } from '../store/db.ts';
import { hashPassword, passwordProblem } from './passwords.ts';

export type User = typeof users.$inferSelect;
export type Role = 'owner' | 'viewer';

export class AccountError extends Error {}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}\.[^\s@]{2,63}$/;

export function normalizeEmail(raw: string): string | null {
  const e = raw.trim().toLowerCase();
  return EMAIL.test(e) ? e : null;
}

export class UserRepo {
  constructor(private readonly db: Db) {}

  count(): number {
    return this.db.select({ n: count() }).from(users).get()!.n;
  }

  byEmail(email: string): User | undefined {
    return this.db.select().from(users).where(eq(users.email, email)).get();
  }

  byId(id: number): User | undefined {
    return this.db.select().from(users).where(eq(users.id, id)).get();
  }

  /**
   * Creates a user; throws AccountError for a bad e-mail, a weak password or a taken e-mail.
   * `firstOnly`: only while there is no user at all (the one-time setup page). Both checks are
   * made again after the ~60 ms password hash, in the same synchronous transaction as the insert:
   * two setups posted together would otherwise both have passed "no user yet" and made two admins.
   */
  async create(rawEmail: string, password: string, admin: boolean, now = Date.now(), firstOnly = false): Promise<User> {
    const email = normalizeEmail(rawEmail);
    if (!email) throw new AccountError(`"${rawEmail.slice(0, 100)}" is not an e-mail address`);
    const problem = passwordProblem(password);
    if (problem) throw new AccountError(problem);
    if (this.byEmail(email)) throw new AccountError(`there is already a user ${email}`);
    const passwordHash = await hashPassword(password);
    return this.db.transaction((tx) => {
      if (firstOnly && tx.select({ id: users.id }).from(users).limit(1).get()) throw new AccountError('the first account has already been created');
      if (tx.select({ id: users.id }).from(users).where(eq(users.email, email)).get()) throw new AccountError(`there is already a user ${email}`);
      return tx.insert(users).values({ email, passwordHash, admin: admin ? 1 : 0, createdAt: now }).returning().get();
    }, { behavior: 'immediate' });
  }

  grant(userId: number, siteId: number, role: Role): void {
    this.db.insert(memberships).values({ userId, siteId, role })
      .onConflictDoUpdate({ target: [memberships.userId, memberships.siteId], set: { role } }).run();
  }

  /** The sites a user may see, with the role (admins: owner of all). */
  sitesFor(user: User): Array<{ id: number; domain: string; role: Role }> {
    if (user.admin) return this.db.select({ id: sites.id, domain: sites.domain }).from(sites).orderBy(asc(sites.domain)).all().map((s) => ({ ...s, role: 'owner' as Role }));
    return this.db.select({ id: sites.id, domain: sites.domain, role: memberships.role }).from(memberships)
      .innerJoin(sites, eq(sites.id, memberships.siteId)).where(eq(memberships.userId, user.id)).orderBy(asc(sites.domain)).all();
  }

  roleOn(user: User, siteId: number): Role | null {
    if (user.admin) return 'owner';
    return this.db.select({ role: memberships.role }).from(memberships)
      .where(and(eq(memberships.userId, user.id), eq(memberships.siteId, siteId))).get()?.role ?? null;
  }
}
