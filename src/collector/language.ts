// Language as a primary tag plus region (`fi`, `en-US`), from the beacon or else the first
// Accept-Language entry. Scripts and variants are dropped: they add detail, not insight.

const TAG = /^([a-zA-Z]{2,3})(?:[-_](?:[a-zA-Z]{4}[-_])?([a-zA-Z]{2}|\d{3}))?(?:[-_].*)?$/;

/** Normalises one BCP 47 tag; null for `*` and anything that is not a language tag. */
export function normalizeLanguage(tag: string | null | undefined): string | null {
  if (!tag || tag.length > 35) return null;
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
