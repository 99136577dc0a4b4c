// Funnels per site: 2–8 ordered steps, each a page path pattern (the same `*`/`**` syntax as page
// goals, matched by the linear-time glob matcher, never a regex) or a custom event name.
import { and, asc, eq } from 'drizzle-orm';
import { funnels } from '../../db/schema.ts';
import type { Db } from './db.ts';

export interface FunnelStep {
  kind: 'page' | 'event';
  value: string;
}

export interface Funnel {
  name: string;
  steps: FunnelStep[];
}

export class FunnelError extends Error {}

export const MIN_STEPS = 2;
export const MAX_STEPS = 8;
/** Funnels per site: each one on the dashboard is one more read of the period's events. */
export const MAX_FUNNELS = 20;
export const MAX_NAME = 120;
/** Event names as goals allow them. */
export const MAX_EVENT = 120;
/** A page pattern as page goals allow it: starts with `/`, no spaces or query string, ≤ 501 characters. */
const PAGE_PATTERN = /^\/[^\s?#]{0,500}$/;
export const MAX_PATTERN = 501;

/** The label of a step in reports: the event name, or `Visit <pattern>`. */
export const stepLabel = (s: FunnelStep) => (s.kind === 'event' ? s.value : `Visit ${s.value}`);

/**
 * Checks one step; `field` names it in the message (`steps[2].page` for the API, `step 3` for
 * the CLI and the settings form).
 */
export function checkStep(kind: 'page' | 'event', raw: unknown, field: string): FunnelStep {
  if (typeof raw !== 'string') throw new FunnelError(`${field} must be a string`);
  const v = raw.trim();
  if (kind === 'event') {
    if (!v || v.length > MAX_EVENT) throw new FunnelError(`${field}: an event step needs an event name of 1 to ${MAX_EVENT} characters`);
    return { kind, value: v };
  }
  if (v.length > MAX_PATTERN) throw new FunnelError(`${field}: a page pattern is at most ${MAX_PATTERN} characters`);
  if (!PAGE_PATTERN.test(v)) throw new FunnelError(`${field}: a page step needs a path pattern starting with "/", like /pricing or /blog/**, without spaces or "?", got ${JSON.stringify(v.slice(0, 100))}`);
  return { kind, value: v };
}

/** A step written as text (CLI, settings form): starting with `/` a page pattern, else an event name. */
export function stepFromText(text: string, field: string): FunnelStep {
  const t = text.trim();
  return checkStep(t.startsWith('/') ? 'page' : 'event', t, field);
}

/** The step count within 2–8, or a FunnelError naming `field`. */
export function checkStepCount(n: number, field: string): void {
  if (n < MIN_STEPS || n > MAX_STEPS) throw new FunnelError(`${field}: a funnel has ${MIN_STEPS} to ${MAX_STEPS} steps, got ${n}`);
}

export function checkName(raw: unknown, field = 'name'): string {
  const name = typeof raw === 'string' ? raw.trim() : '';
  if (!name || name.length > MAX_NAME) throw new FunnelError(`${field}: a funnel needs a name of 1 to ${MAX_NAME} characters`);
  return name;
}

export class FunnelRepo {
  constructor(private readonly db: Db) {}

  add(siteId: number, name: string, steps: FunnelStep[], now = Date.now()): Funnel {
    const n = checkName(name);
    checkStepCount(steps.length, 'steps');
    const checked = steps.map((s, i) => checkStep(s.kind, s.value, `step ${i + 1}`));
    const existing = this.list(siteId);
    if (existing.length >= MAX_FUNNELS) throw new FunnelError(`a site has at most ${MAX_FUNNELS} funnels; remove one first`);
    if (existing.some((f) => f.name === n)) throw new FunnelError(`the site already has a funnel named "${n}"`);
    this.db.insert(funnels).values({ siteId, name: n, steps: JSON.stringify(checked), createdAt: now }).run();
    return { name: n, steps: checked };
  }

  list(siteId: number): Funnel[] {
    return this.db.select({ name: funnels.name, steps: funnels.steps }).from(funnels)
      .where(eq(funnels.siteId, siteId)).orderBy(asc(funnels.id)).all()
      .map((r) => ({ name: r.name, steps: JSON.parse(r.steps) as FunnelStep[] }));
  }

  get(siteId: number, name: string): Funnel | undefined {
    return this.list(siteId).find((f) => f.name === name);
  }

  remove(siteId: number, name: string): boolean {
    return this.db.delete(funnels).where(and(eq(funnels.siteId, siteId), eq(funnels.name, name))).run().changes > 0;
  }
}
