// User-agent → browser family + major version, OS + major version, device class and a bot
// verdict, all cached together per UA string (UA parse ~55 µs + isbot ~6 µs, a cache hit
// ~0.05 µs). Only these parsed fields leave this module; the full UA string is never stored.
import { UAParser } from 'ua-parser-js';
import { isbot } from 'isbot';
import { Lru, ownCopy } from './lru.ts';

export type Device = 'desktop' | 'mobile' | 'tablet' | 'tv' | 'bot';

export interface Agent {
  bot: boolean;
  browser: string | null;
  browserVersion: string | null;
  os: string | null;
  osVersion: string | null;
  device: Device;
}

// ua-parser-js 1.0 names some mobile variants separately; reports group them by family.
const BROWSER_NAMES: Record<string, string> = {
  'Mobile Safari': 'Safari',
  'Mobile Chrome': 'Chrome',
  'Mobile Firefox': 'Firefox',
  'Chrome WebView': 'Chrome',
  'Safari WebView': 'Safari',
  'Edge WebView': 'Edge',
};
const OS_NAMES: Record<string, string> = { 'Mac OS': 'macOS', 'Chromium OS': 'ChromeOS' };

function major(version: string | undefined, twoParts = false): string | null {
  if (!version) return null;
  const parts = version.split('.');
  // macOS 10.x versions differ in their second part (10.15 Catalina vs 10.14 Mojave).
  return twoParts && parts[0] === '10' && parts.length > 1 ? `${parts[0]}.${parts[1]}` : parts[0];
}

function deviceOf(type: string | undefined): Device {
  switch (type) {
    case 'mobile': case 'wearable': return 'mobile';
    case 'tablet': return 'tablet';
    case 'smarttv': case 'console': return 'tv';
    default: return 'desktop';
  }
}

const BOT: Agent = { bot: true, browser: null, browserVersion: null, os: null, osVersion: null, device: 'bot' };

/** Parses a UA without caching. An empty or bot UA gives the bot verdict. */
export function parseAgent(ua: string): Agent {
  if (!ua || isbot(ua)) return BOT;
  const r = new UAParser(ua).getResult();
  const os = r.os.name ? OS_NAMES[r.os.name] ?? r.os.name : null;
  return {
    bot: false,
    browser: r.browser.name ? BROWSER_NAMES[r.browser.name] ?? r.browser.name : null,
    browserVersion: major(r.browser.version),
    os,
    osVersion: major(r.os.version, os === 'macOS'),
    device: deviceOf(r.device.type),
  };
}

/** parseAgent behind an LRU (5,000 entries gave 80 % hits on a deliberately diverse stream). */
export class AgentCache {
  private readonly lru: Lru<string, Agent>;
  constructor(capacity = 5000) {
    this.lru = new Lru(capacity);
  }

  get(ua: string): Agent {
    // Longer strings are not real browsers' UAs; do not let them fill the cache.
    if (ua.length > 1024) return parseAgent(ua.slice(0, 1024));
    let a = this.lru.get(ua);
    if (a === undefined) {
      a = parseAgent(ua);
      this.lru.set(ownCopy(ua), a); // not a view of the log line it may have been cut from
    }
    return a;
  }
}
