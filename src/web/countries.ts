// Country names for people: Hush stores and filters by ISO 3166-1 alpha-2 codes (the Stats API
// and the URLs keep them), but a dashboard reader sees "🇩🇪 Deutschland" in their own language —
// Intl.DisplayNames with the request's Accept-Language, English when none of its languages is
// known. The flag is two regional indicator symbols (U+1F1E6 + the letter's offset from A).

const CODE = /^[A-Z]{2}$/;
const FALLBACK = 'en';
// One formatter per locale tag. Tags come from browsers, so the cache is bounded (64 entries,
// cleared when full) rather than grown by whatever a request sends.
const cache = new Map<string, Intl.DisplayNames>();

/** The first language of an Accept-Language header (by q, then order) that Intl knows; else "en". */
export function localeOf(acceptLanguage: string | null | undefined): string {
  if (!acceptLanguage) return FALLBACK;
  const tags = acceptLanguage.slice(0, 500).split(',').slice(0, 20).map((part, i) => {
    const [tag, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), i };
  }).filter((t) => t.tag && t.tag !== '*' && t.q > 0 && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(t.tag));
  tags.sort((a, b) => b.q - a.q || a.i - b.i);
  for (const t of tags) {
    try {
      const [supported] = Intl.DisplayNames.supportedLocalesOf([t.tag]);
      if (supported) return supported;
    } catch { /* a tag Intl rejects: try the next */ }
  }
  return FALLBACK;
}

function names(locale: string): Intl.DisplayNames {
  let n = cache.get(locale);
  if (!n) {
    if (cache.size >= 64) cache.clear();
    n = new Intl.DisplayNames([locale, FALLBACK], { type: 'region', fallback: 'code' });
    cache.set(locale, n);
  }
  return n;
}

/** The regional-indicator flag of an alpha-2 code ("DE" → 🇩🇪), or "" for anything else. */
export function flag(code: string): string {
  if (!CODE.test(code)) return '';
  return String.fromCodePoint(0x1f1e6 + code.charCodeAt(0) - 65, 0x1f1e6 + code.charCodeAt(1) - 65);
}

/** The name of a country code in a locale; the value itself when it is not a code Intl knows. */
export function countryName(code: string, locale: string): string {
  if (!CODE.test(code)) return code;
  try {
    return names(locale).of(code) ?? code;
  } catch {
    return code;
  }
}

/** Name and flag, or null when the value is not a known country (then show the value as it is). */
export function country(code: string, locale: string): { name: string; flag: string } | null {
  const name = countryName(code, locale);
  return name === code ? null : { name, flag: flag(code) };
}

/** "🇩🇪 Germany" as plain text (tooltips, aria-labels, CSV); the value itself when unknown. */
export function countryText(code: string, locale: string): string {
  const c = country(code, locale);
  return c ? `${c.flag} ${c.name}` : code;
}
