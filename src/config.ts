// Server settings from the environment, validated once at start so a typo fails loudly.
import { parseCidrList, type Cidr } from './collector/client-ip.ts';
import type { Precision } from './pseudonymize/truncate.ts';

export interface Config {
  port: number;
  /** Listen address; undefined = all interfaces, IPv6 and IPv4 where available. */
  host: string | undefined;
  dbPath: string;
  trustedProxies: Cidr[];
  precision: Precision;
  /** SQLite `synchronous`: FULL survives power loss, NORMAL survives a process kill. */
  synchronous: 'FULL' | 'NORMAL';
  /** Longest time a hit waits for its batch to commit before the 202. */
  batchMs: number;
  batchMax: number;
  /** How often the reports thread rebuilds the rollups of days with new events. */
  rollupMs: number;
  /**
   * HUSH_LIVE_ROLLUPS (default 1): the writer thread hands each batch to the reports thread, whose
   * rollups of today then read nothing back. 0 reads new events back from SQLite instead (a
   * diagnostic, and the bench's "rollups off" baseline together with a long HUSH_ROLLUP_MS).
   */
  liveRollups: boolean;
  /**
   * HUSH_EVENT_FRONT (default 1): plain POST /api/event requests are read off the socket
   * (server/event-front.ts) instead of through node:http. 0 leaves every request to node:http:
   * the same answers at ~20 µs more CPU per hit — a way out should a client's requests ever be
   * read differently.
   */
  eventFront: boolean;
  /** Lowest k a site may have (HUSH_MIN_K_FLOOR); the audit fails below it. */
  kFloor: number;
  /**
   * Longest time a client may take to send a whole request, headers and body (HUSH_REQUEST_TIMEOUT_MS,
   * default 30 s; headers alone get at most 10 s). Node's default is 300 s, which lets slow-body
   * connections linger: a beacon is a few hundred bytes, a form a few KiB.
   */
  requestTimeoutMs: number;
  /** A cap on the database file (HUSH_DB_MAX_MB): past it hits get 503 as on a full disk. */
  maxDbMb: number | undefined;
  /** Bearer token for GET /metrics (HUSH_METRICS_TOKEN); without one /metrics answers 404. */
  metricsToken: string | undefined;
  /** Where the server writes a daily copy (HUSH_BACKUP_DIR), and how many it keeps (HUSH_BACKUP_KEEP). */
  backupDir: string | undefined;
  backupKeep: number;
  /** Memory for cached day segments of filtered reports, MB (HUSH_REPORT_CACHE_MB; 0 = none kept). */
  reportCacheMb: number;
  /** E-mail reports (src/email): where mail is sent (HUSH_SMTP_URL); without it no e-mail leaves. */
  smtpUrl: string | undefined;
  /** The sender of report mails (HUSH_SMTP_FROM), required with HUSH_SMTP_URL. */
  smtpFrom: string | undefined;
  /** A PEM file of a certificate to trust besides the system's (HUSH_SMTP_CA: a self-signed server). */
  smtpCa: string | undefined;
  /** The address readers reach Hush at (HUSH_PUBLIC_URL), for the unsubscribe link in each mail. */
  publicUrl: string | undefined;
}

export class ConfigError extends Error {}

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

/** Reads the environment (defaults as documented in the README). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const precision = (env.HUSH_IP_PRECISION || 'default').toLowerCase();
  if (precision !== 'default' && precision !== 'strict') {
    throw new ConfigError(`HUSH_IP_PRECISION must be "default" or "strict", got "${env.HUSH_IP_PRECISION}"`);
  }
  const sync = (env.HUSH_SYNC || 'full').toUpperCase();
  if (sync !== 'FULL' && sync !== 'NORMAL') {
    throw new ConfigError(`HUSH_SYNC must be "full" or "normal", got "${env.HUSH_SYNC}"`);
  }
  let trustedProxies: Cidr[];
  try {
    trustedProxies = parseCidrList(env.HUSH_TRUSTED_PROXIES || '');
  } catch (e) {
    throw new ConfigError(`HUSH_TRUSTED_PROXIES: ${(e as Error).message}`);
  }
  const metricsToken = env.HUSH_METRICS_TOKEN || undefined;
  // A short token is guessable: 16 characters is the least (e.g. `openssl rand -hex 16` gives 32).
  if (metricsToken !== undefined && metricsToken.length < 16) throw new ConfigError('HUSH_METRICS_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 16`)');
  return {
    port: int('PORT', env.PORT, 8080, 0, 65535),
    host: env.HOST || undefined,
    dbPath: env.HUSH_DB || './data/hush.db',
    trustedProxies,
    precision,
    synchronous: sync,
    batchMs: int('HUSH_BATCH_MS', env.HUSH_BATCH_MS, 2, 0, 1000),
    batchMax: int('HUSH_BATCH_MAX', env.HUSH_BATCH_MAX, 1000, 1, 100000),
    rollupMs: int('HUSH_ROLLUP_MS', env.HUSH_ROLLUP_MS, 1000, 100, 3_600_000),
    liveRollups: int('HUSH_LIVE_ROLLUPS', env.HUSH_LIVE_ROLLUPS, 1, 0, 1) === 1,
    eventFront: int('HUSH_EVENT_FRONT', env.HUSH_EVENT_FRONT, 1, 0, 1) === 1,
    kFloor: int('HUSH_MIN_K_FLOOR', env.HUSH_MIN_K_FLOOR, 3, 1, 1000),
    requestTimeoutMs: int('HUSH_REQUEST_TIMEOUT_MS', env.HUSH_REQUEST_TIMEOUT_MS, 30_000, 1000, 600_000),
    maxDbMb: env.HUSH_DB_MAX_MB ? int('HUSH_DB_MAX_MB', env.HUSH_DB_MAX_MB, 0, 1, 16_000_000) : undefined,
    metricsToken,
    backupDir: env.HUSH_BACKUP_DIR || undefined,
    backupKeep: int('HUSH_BACKUP_KEEP', env.HUSH_BACKUP_KEEP, 7, 1, 3650),
    // 256 MB holds ~4.5 M events of segments (~56 MB per million, measured by `npm run bench`).
    reportCacheMb: int('HUSH_REPORT_CACHE_MB', env.HUSH_REPORT_CACHE_MB, 256, 0, 1_048_576),
    ...emailSettings(env),
  };
}

/** The e-mail settings. Messages never repeat HUSH_SMTP_URL: it may hold a password. */
function emailSettings(env: NodeJS.ProcessEnv): Pick<Config, 'smtpUrl' | 'smtpFrom' | 'smtpCa' | 'publicUrl'> {
  const smtpUrl = env.HUSH_SMTP_URL || undefined;
  if (smtpUrl !== undefined) {
    let u: URL | null = null;
    try {
      u = new URL(smtpUrl);
    } catch { /* reported below */ }
    if (!u || (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') || !u.hostname) {
      throw new ConfigError('HUSH_SMTP_URL must look like smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465 (TLS)');
    }
    if (!env.HUSH_SMTP_FROM) throw new ConfigError('HUSH_SMTP_FROM (the sender, e.g. "Hush <stats@example.com>") is required with HUSH_SMTP_URL');
  }
  const publicUrl = env.HUSH_PUBLIC_URL ? env.HUSH_PUBLIC_URL.replace(/\/+$/, '') : undefined;
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(publicUrl)) {
    throw new ConfigError(`HUSH_PUBLIC_URL must be an http(s) address such as https://stats.example.com, got "${publicUrl.slice(0, 100)}"`);
  }
  return { smtpUrl, smtpFrom: env.HUSH_SMTP_FROM || undefined, smtpCa: env.HUSH_SMTP_CA || undefined, publicUrl };
}
