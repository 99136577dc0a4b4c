// Goals per site: a custom event name or a page path pattern, reported as `event:goal`.
import { and, asc, eq } from 'drizzle-orm';
import { goals } from '../../db/schema.ts';
import type { Db } from './db.ts';

export type Goal = Pick<typeof goals.$inferSelect, 'name' | 'kind' | 'value'>;

export class GoalError extends Error {}

/**
 * Goals per site. An `event:goal` filter ORs the goals it names into one SQL condition (about 2
 * expression levels each, SQLite allows 1,000), and the dashboard lists them all: 100 is far
 * beyond what a marketer tracks (Plausible's UI shows a few dozen).
 */
export const MAX_GOALS = 100;

/** A page pattern is a path: starts with `/`, no spaces or query string. */
const PAGE_PATTERN = /^\/[^\s?#]{0,500}$/;

export class GoalRepo {
  constructor(private readonly db: Db) {}

  /** Adds an event goal (`event` = its name) or a page goal (`page` = a path pattern). */
  add(siteId: number, spec: { event?: string; page?: string; name?: string }, now = Date.now()): Goal {
    let goal: Goal;
    if (spec.event !== undefined && spec.page === undefined) {
      const ev = spec.event.trim();
      if (!ev || ev.length > 120) throw new GoalError('an event goal needs an event name of 1 to 120 characters');
      goal = { name: spec.name?.trim() || ev, kind: 'event', value: ev };
    } else if (spec.page !== undefined && spec.event === undefined) {
      const p = spec.page.trim();
      if (!PAGE_PATTERN.test(p)) throw new GoalError(`a page goal needs a path pattern starting with "/", like /thanks or /blog/**, got "${p.slice(0, 100)}"`);
      goal = { name: spec.name?.trim() || `Visit ${p}`, kind: 'page', value: p };
    } else {
      throw new GoalError('a goal is either an event name or a page pattern');
    }
    const existing = this.list(siteId);
    if (existing.length >= MAX_GOALS) throw new GoalError(`a site has at most ${MAX_GOALS} goals; remove one first`);
    if (existing.some((g) => g.name === goal.name)) throw new GoalError(`the site already has a goal named "${goal.name}"`);
    this.db.insert(goals).values({ siteId, ...goal, createdAt: now }).run();
    return goal;
  }

  list(siteId: number): Goal[] {
    return this.db.select({ name: goals.name, kind: goals.kind, value: goals.value }).from(goals)
      .where(eq(goals.siteId, siteId)).orderBy(asc(goals.id)).all();
  }

  remove(siteId: number, name: string): boolean {
    return this.db.delete(goals).where(and(eq(goals.siteId, siteId), eq(goals.name, name))).run().changes > 0;
  }
}
