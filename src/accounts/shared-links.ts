// Shared links: read-only access to one site's dashboard for whoever has the link (and, if set,
// its password). The token is 24 random bytes; only its SHA-256 is stored, so the link is shown
// once, and a copy of the database opens nothing.
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { sharedLinks } from '../../db/schema.ts';
import type { Db } from '../store/db.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { AccountError } from './users.ts';

export type SharedLink = typeof sharedLinks.$inferSelect;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export class SharedLinkRepo {
  constructor(private readonly db: Db) {}

  /** Creates a link; returns its token (the only time it exists in clear). */
  async create(siteId: number, label: string, password: string | null, now = Date.now()): Promise<string> {
    const name = label.trim().slice(0, 100) || 'Shared link';
    if (password) {
      const problem = passwordProblem(password);
      if (problem) throw new AccountError(problem);
    }
    const token = randomBytes(24).toString('base64url');
    this.db.insert(sharedLinks).values({
      siteId, tokenHash: hash(token), label: name, passwordHash: password ? await hashPassword(password) : null, createdAt: now,
    }).run();
    return token;
  }

  byToken(token: string): SharedLink | undefined {
    if (!token || token.length > 64) return undefined;
    return this.db.select().from(sharedLinks).where(eq(sharedLinks.tokenHash, hash(token))).get();
  }

  list(siteId: number): SharedLink[] {
    return this.db.select().from(sharedLinks).where(eq(sharedLinks.siteId, siteId)).orderBy(asc(sharedLinks.id)).all();
  }

  revoke(siteId: number, id: number): boolean {
    return this.db.delete(sharedLinks).where(and(eq(sharedLinks.siteId, siteId), eq(sharedLinks.id, id))).run().changes > 0;
  }
}

/** The value of the cookie that unlocks a password-protected link: useless once the link or its password changes. */
export function unlockProof(token: string, link: SharedLink): string {
  return createHash('sha256').update(`hush-share-unlock\u0000${token}\u0000${link.passwordHash ?? ''}`).digest('base64url');
}
