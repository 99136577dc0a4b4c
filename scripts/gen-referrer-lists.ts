// Regenerates src/collector/lists/referrer-lists.json from the Matomo lists copied into
// scripts/referrer-sources/ (SearchEngines.yml and Socials.yml: CC0-1.0; referrer-spammers.txt:
// public domain; matomo-org/searchengine-and-social-list and matomo-org/referrer-spam-list; see
// the README there). Run by hand when the lists are updated:
// `npx tsx scripts/gen-referrer-lists.ts [dataDir]`. The product reads the generated JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.argv[2] ?? path.join(here, 'referrer-sources');
const unquote = (s: string) => s.trim().replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');

/** SearchEngines.yml: `Name:` then `  -` blocks with `urls:` lists. Only host patterns are kept. */
function searchEngines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name = '', inUrls = false;
  for (const line of text.split('\n')) {
    if (/^\S.*:\s*$/.test(line) && !line.startsWith('#')) { name = unquote(line.replace(/:\s*$/, '')); inUrls = false; continue; }
    if (/^\s+urls:\s*$/.test(line)) { inUrls = true; continue; }
    const item = /^(\s+)-\s+(.+)$/.exec(line);
    if (item && inUrls && item[1].length >= 4) { out[unquote(item[2]).toLowerCase()] ??= name; continue; }
    if (/^\s+\w+:/.test(line)) inUrls = false;
  }
  return out;
}

/** Socials.yml: `Name:` then `  - host` lines. */
function socials(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name = '';
  for (const line of text.split('\n')) {
    if (/^\S.*:\s*$/.test(line) && !line.startsWith('#')) { name = unquote(line.replace(/:\s*$/, '')); continue; }
    const item = /^\s+-\s+(.+)$/.exec(line);
    if (item && name) out[unquote(item[1]).toLowerCase()] ??= name;
  }
  return out;
}

const se = searchEngines(readFileSync(path.join(dataDir, 'SearchEngines.yml'), 'utf8'));
const so = socials(readFileSync(path.join(dataDir, 'Socials.yml'), 'utf8'));
const spam = readFileSync(path.join(dataDir, 'referrer-spammers.txt'), 'utf8')
  .split('\n').map((l) => l.trim().toLowerCase()).filter((l) => l && !l.startsWith('#'));

const out = {
  credits: 'Search engines and socials: matomo-org/searchengine-and-social-list (CC0-1.0). ' +
    'Referrer spam: matomo-org/referrer-spam-list (public domain).',
  searchEngines: se,
  socials: so,
  spam,
};
const dest = path.join(here, '../src/collector/lists/referrer-lists.json');
writeFileSync(dest, JSON.stringify(out) + '\n');
console.log(`wrote ${dest}: ${Object.keys(se).length} search hosts, ${Object.keys(so).length} social hosts, ${spam.length} spam hosts`);
