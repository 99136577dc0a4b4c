// Sites: the repository (Drizzle queries used by the CLI and the API) and the in-memory
// directory the hit path reads, refreshed on a timer so `hush site add` in another process
// takes effect within seconds without a query per hit.
import { asc, eq } from 'drizzle-orm';
import { sites } from '../../db/schema.ts';
import type { Db } from './db.ts';
import { compileGlobs, globListProblem, type PathTest } from '../matchers/glob.ts';

export type Site = typeof sites.$inferSelect;

const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower case, no scheme, no `www.`, no trailing dot. Null when it is not a host name. */
export function normalizeDomain(input: string): string | null {
  let d = input.trim().toLowerCase();
  if (d.startsWith('http://') || d.startsWith('https://')) d = d.slice(d.indexOf('//') + 2);
  d = d.replace(/\/+$/, '');
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (d.startsWith('www.')) d = d.slice(4);
  return HOST.test(d) ? d : null;
}

/** True when `tz` is an IANA time zone this runtime knows (e.g. Europe/Helsinki). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Compiles `/admin/*, /drafts/**` into one matcher: `*` within a segment, `**` across segments.
 * Linear time (src/matchers/glob.ts); throws when the list is over the length a site may save.
 */
export function pathMatcher(patterns: string): PathTest | null {
  const problem = globListProblem(patterns);
  if (problem) throw new Error(problem);
  return compileGlobs(patterns);
}

export interface NewSite {
  domain: string;
  timezone?: string;
  minVisitors?: number;
  retentionDays?: number;
  excludePaths?: string;
  listed?: number;
}

/** Excluded paths run on every hit: their length is capped where they are saved. */
function checkExcludePaths(patterns: string | undefined): void {
  const problem = patterns === undefined ? null : globListProblem(patterns);
  if (problem) throw new Error(problem);
}

export class SiteRepo {
  constructor(private readonly db: Db) {}

  add(s: NewSite, now = Date.now()): Site {
    checkExcludePaths(s.excludePaths);
    return this.db.insert(sites).values({ ...s, createdAt: now }).returning().get();
  }

  list(): Site[] {
    return this.db.select().from(sites).orderBy(asc(sites.domain)).all();
  }

  byId(id: number): Site | undefined {
    return this.db.select().from(sites).where(eq(sites.id, id)).get();
  }

  byDomain(domain: string): Site | undefined {
    return this.db.select().from(sites).where(eq(sites.domain, domain)).get();
  }

  /** Changes a site's settings; returns the updated site. */
  update(id: number, changes: Partial<Pick<Site, 'domain' | 'timezone' | 'minVisitors' | 'retentionDays' | 'excludePaths'>>): Site | undefined {
    checkExcludePaths(changes.excludePaths);
    return this.db.update(sites).set(changes).where(eq(sites.id, id)).returning().get();
  }

  remove(domain: string): boolean {
    return this.db.delete(sites).where(eq(sites.domain, domain)).run().changes > 0;
  }
}

/** What the hit path needs of a site. */
export interface SiteEntry {
  id: number;
  domain: string;
  timezone: string;
  exclude: PathTest | null;
}

export class SiteDirectory {
  private byDomain = new Map<string, SiteEntry>();

  constructor(private readonly repo: Pick<SiteRepo, 'list'>) {
    this.refresh();
  }

  refresh(): void {
    const next = new Map<string, SiteEntry>();
    for (const s of this.repo.list()) {
      // Not pathMatcher: a list saved before the cap still counts, in linear time.
      next.set(s.domain, { id: s.id, domain: s.domain, timezone: s.timezone, exclude: compileGlobs(s.excludePaths) });
    }
    this.byDomain = next;
  }

  /** The site for a payload domain (`www.` ignored), or undefined. */
  get(domain: string): SiteEntry | undefined {
    return this.byDomain.get(domain) ?? (domain.startsWith('www.') ? this.byDomain.get(domain.slice(4)) : undefined);
  }
}
