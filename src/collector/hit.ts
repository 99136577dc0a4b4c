// The normalised hit: what the collector hands to the store after enrichment and
// pseudonymisation. It holds no IP address and no user-agent string, by construction.
import type { Channel } from './referrer.ts';
import type { Device } from './user-agent.ts';

/** Acquisition and client attributes: per hit, and per visit (taken from its first hit). */
export interface VisitAttributes {
  referrerHost: string | null;
  referrerPath: string | null;
  source: string | null;
  channel: Channel;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmContent: string | null;
  utmTerm: string | null;
  country: string | null;
  browser: string | null;
  browserVersion: string | null;
  os: string | null;
  osVersion: string | null;
  device: Device;
  language: string | null;
  screen: string | null;
}

export interface Hit extends VisitAttributes {
  siteId: number;
  ts: number;
  visitorId: bigint;
  /** The id under yesterday's key, only in the first 30 minutes after UTC midnight (visit continuity). */
  prevVisitorId: bigint | null;
  name: string;
  hostname: string;
  pathname: string;
  bytes: number | null;
  status: number | null;
  loadMs: number | null;
  engagementMs: number | null;
  /** Engagement hits only: the deepest point of the page seen, percent 0–100. */
  scrollDepth?: number | null;
  /** JSON object of string values, or null. */
  props: string | null;
  revenueAmount: number | null;
  revenueCurrency: string | null;
  interactive: boolean;
  sourceType: 'script' | 'log';
}

/** Why a well-formed hit was not stored. A closed set: reports and the X-Hush-Dropped header use it. */
export type DropReason = 'opt_out' | 'unknown_site' | 'bot' | 'excluded' | 'referrer_spam' | 'no_visit';
