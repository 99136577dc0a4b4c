// IPv6 text in its plain form — hex groups and colons, at most one "::", no zone id, no dotted
// IPv4 tail — parsed by hand into eight 16-bit groups. That is what sockets and proxies report;
// ipaddr.js (isValid, then process, which parses again) costs ~7 µs per address here against
// ~0.2 µs for this loop, and an IPv6 visitor's hit needed it twice (the X-Forwarded-For hop's
// trust check, then truncation). Whatever this parser accepts, ipaddr.js accepts with the same
// groups (test/ip compares them); anything else it declines, and the callers ask ipaddr.js.

/**
 * Fills `out` with the eight groups of `s` and returns true when `s` is a plain IPv6 address;
 * false (out then of no use) for anything else, valid in another form or not an address.
 */
export function parsePlainIPv6(s: string, out: Uint16Array | number[]): boolean {
  const n = s.length;
  if (n < 2 || n > 39) return false;
  let groups = 0, gap = -1, i = 0;
  if (s.charCodeAt(0) === 58) { // a leading ':' must be "::"
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) { out.fill(0); return true; } // "::"
  }
  for (;;) {
    // one group: 1–4 hex digits
    let v = 0, digits = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      if (++digits > 4) return false;
      v = v * 16 + d;
    }
    if (digits === 0 || groups === 8) return false;
    out[groups++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false; // not hex, not ':'
    i++;
    if (i < n && s.charCodeAt(i) === 58) { // "::"
      if (gap >= 0) return false; // a second one
      gap = groups;
      i++;
      if (i === n) break; // ends with "::"
    } else if (i === n) return false; // ends with a single ':'
  }
  if (gap < 0) return groups === 8;
  if (groups > 7) return false; // "::" stands for at least one zero group
  // move the groups after the gap to the end, zeros between
  const after = groups - gap;
  for (let k = 0; k < after; k++) out[7 - k] = out[groups - 1 - k];
  for (let k = gap; k < 8 - after; k++) out[k] = 0;
  return true;
}

/** Whether the groups are an IPv4-mapped address (::ffff:a.b.c.d), which ipaddr.process unwraps. */
export function isMapped(g: Uint16Array | number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}
