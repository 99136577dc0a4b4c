// CSV per RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a comma, a
// quote or a line break (quotes doubled). Dimension values come from visitors (paths,
// referrers), so a text cell starting with = + - @ or a tab is prefixed with ' — spreadsheet
// programs would otherwise run it as a formula (CSV injection).
const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA = /^[=+\-@\t\r]/;

export function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const s = FORMULA.test(v) ? `'${v}` : v;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: Array<string | number | null>): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
