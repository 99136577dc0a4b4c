// Stats API keys: 32 random bytes shown once as `hush_…`; only their SHA-256 is stored, so a
// copy of the database does not grant API access.
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { apiKeys, sites } from '../../db/schema.ts';
import type { Db } from './db.ts';

const PREFIX = 'hush_';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class ApiKeyRepo {
  constructor(private readonly db: Db) {}

  /** Creates a key for a site and returns it; this is the only time the key exists in clear. */
  create(siteId: number, now = Date.now()): string {
    const key = PREFIX + randomBytes(32).toString('base64url');
    this.db.insert(apiKeys).values({ siteId, keyHash: hashKey(key), keyPrefix: key.slice(0, PREFIX.length + 6), createdAt: now }).run();
    return key;
  }

  /** A site's keys as an owner sees them: the first characters only. */
  list(siteId: number): Array<{ id: number; keyPrefix: string; createdAt: number }> {
    return this.db.select({ id: apiKeys.id, keyPrefix: apiKeys.keyPrefix, createdAt: apiKeys.createdAt }).from(apiKeys)
      .where(eq(apiKeys.siteId, siteId)).orderBy(asc(apiKeys.id)).all();
  }

  /** Revokes a key of a site; false when the site has no such key. */
  revoke(siteId: number, id: number): boolean {
    return this.db.delete(apiKeys).where(and(eq(apiKeys.siteId, siteId), eq(apiKeys.id, id))).run().changes > 0;
  }

  /** The site domain a key grants, or undefined for an unknown key. */
  siteFor(key: string): { siteId: number; domain: string } | undefined {
    return this.db.select({ siteId: sites.id, domain: sites.domain }).from(apiKeys)
      .innerJoin(sites, eq(sites.id, apiKeys.siteId)).where(eq(apiKeys.keyHash, hashKey(key))).get();
  }
}
