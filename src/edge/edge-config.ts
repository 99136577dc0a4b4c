// The settings the edge shares with Node, read from the Worker's variables (wrangler.toml [vars],
// secrets) by Node's own loadConfig, so the defaults and the checks are the same on both hosts:
// HUSH_IP_PRECISION (default|strict) and HUSH_MIN_K_FLOOR (default 3). A bad value throws a
// ConfigError naming it, which the Worker answers with a 500 saying so.
// And one of the edge's own: HUSH_JURISDICTION, where Cloudflare keeps the Durable Objects
// (their data and where they run): unset = anywhere, "eu" = inside the European Union.
import { ConfigError, loadConfig } from '../config.ts';
import type { Precision } from '../pseudonymize/truncate.ts';
import type { DurableObjectJurisdiction, DurableObjectNamespace } from './cf-types.ts';

export function edgeSettings(env: { HUSH_IP_PRECISION?: string; HUSH_MIN_K_FLOOR?: string; HUSH_JURISDICTION?: string }): { precision: Precision; kFloor: number } {
  const c = loadConfig({ HUSH_IP_PRECISION: env.HUSH_IP_PRECISION, HUSH_MIN_K_FLOOR: env.HUSH_MIN_K_FLOOR });
  jurisdictionOf(env);
  return { precision: c.precision, kFloor: c.kFloor };
}

const JURISDICTIONS: readonly DurableObjectJurisdiction[] = ['eu', 'fedramp', 'fedramp-high'];

/**
 * The namespace of objects in HUSH_JURISDICTION (Durable Objects' jurisdictions: an object made
 * in the "eu" one is created, stored and run only in the EU). Objects are found by name within a
 * jurisdiction, so the setting is chosen before the first hit: changing it later starts empty
 * objects beside the old ones (README, "Running at the edge").
 */
export function inJurisdiction<T extends DurableObjectNamespace<never> | DurableObjectNamespace<undefined>>(ns: T, env: { HUSH_JURISDICTION?: string }): T {
  const j = jurisdictionOf(env);
  return j ? ns.jurisdiction(j) as T : ns;
}

/** HUSH_JURISDICTION, checked: null when unset. */
export function jurisdictionOf(env: { HUSH_JURISDICTION?: string }): DurableObjectJurisdiction | null {
  const j = env.HUSH_JURISDICTION?.trim().toLowerCase();
  if (!j) return null;
  if (!JURISDICTIONS.includes(j as DurableObjectJurisdiction)) {
    throw new ConfigError(`HUSH_JURISDICTION must be empty or one of ${JURISDICTIONS.join(', ')}, got "${j.slice(0, 40)}"`);
  }
  return j as DurableObjectJurisdiction;
}
