// Language as a primary tag plus region (`fi`, `en-US`), from the beacon or else the first
// Accept-Language entry. Scripts and variants are dropped: they add detail, not insight.

const TAG = /^([a-zA-Z]{2,3})(?:[-_](?:[a-zA-Z]{4}[-_])?([a-zA-Z]{2}|\d{3}))?(?:[-_].*)?$/;

/** Whether tag[i] and tag[i + 1] are ASCII lowercase (isLower) or uppercase (isUpper) letters. */
const isLower = (t: string, i: number) => { const a = t.charCodeAt(i), b = t.charCodeAt(i + 1); return a >= 97 && a <= 122 && b >= 97 && b <= 122; };
const isUpper = (t: string, i: number) => { const a = t.charCodeAt(i), b = t.charCodeAt(i + 1); return a >= 65 && a <= 90 && b >= 65 && b <= 90; };

/** Normalises one BCP 47 tag; null for `*` and anything that is not a language tag. */
export function normalizeLanguage(tag: string | null | undefined): string | null {
  if (!tag || tag.length > 35) return null;
  // The forms browsers send ("en", "en-US") already normalised: the tag itself, without the
  // regex's match array and substrings (~170 B and ~0.2 µs a hit). Anything else takes the regex.
  if (tag.length === 2 ? isLower(tag, 0) : tag.length === 5 && isLower(tag, 0) && tag.charCodeAt(2) === 45 && isUpper(tag, 3)) return tag;
  const m = TAG.exec(tag.trim());
  if (!m) return null;
  const lang = m[1].toLowerCase();
  return m[2] ? `${lang}-${m[2].toUpperCase()}` : lang;
}

/** The first tag of an Accept-Language header, in the order the browser sent it. */
export function languageFromHeader(header: string | null | undefined): string | null {
  if (!header) return null;
  const comma = header.indexOf(',');
  const first = comma < 0 ? header : header.slice(0, comma);
  const semi = first.indexOf(';');
  return normalizeLanguage(semi < 0 ? first : first.slice(0, semi));
}
