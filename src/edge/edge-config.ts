// The settings the edge shares with Node, read from the Worker's variables (wrangler.toml [vars],
// secrets) by Node's own loadConfig, so the defaults and the checks are the same on both hosts:
// HUSH_IP_PRECISION (default|strict) and HUSH_MIN_K_FLOOR (default 3). A bad value throws a
// ConfigError naming it, which the Worker answers with a 500 saying so.
import { loadConfig } from '../config.ts';
import type { Precision } from '../pseudonymize/truncate.ts';

export function edgeSettings(env: { HUSH_IP_PRECISION?: string; HUSH_MIN_K_FLOOR?: string }): { precision: Precision; kFloor: number } {
  const c = loadConfig({ HUSH_IP_PRECISION: env.HUSH_IP_PRECISION, HUSH_MIN_K_FLOOR: env.HUSH_MIN_K_FLOOR });
  return { precision: c.precision, kFloor: c.kFloor };
}
