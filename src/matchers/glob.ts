// Path patterns (`/admin/*, /drafts/**`: `*` a run within a segment, `**` any run) for a site's
// excluded paths, page goals and `hush import --pages/--assets`. They used to compile into a
// backtracking RegExp: `/**a**a**a**b` against `/` + 500 × `a` took 3.4 s on the main thread,
// per hit. Here a pattern is a list of tokens run as an NFA over a bitset of live states
// (shift-and), O(path × pattern / 32) whatever the pattern, with no backtracking at all.
// Common shapes skip the NFA: an exact path, a prefix + `**` or `*`, or a literal prefix/suffix
// that already rules the path out. Same answers as the old regex (test/matchers, fast-check),
// except that `**` now also crosses a raw line break, which no parsed URL path holds.

/** Anything with `test(path)`: what the hit path, goals and the importer call. */
export interface PathTest {
  test(path: string): boolean;
}

/**
 * The longest list of patterns a site or an import may use: the settings form's limit. It bounds
 * the per-hit cost: the NFA steps one 32-bit word per 32 pattern characters per path character,
 * so the worst accepted list (`/**a*a*…b`, 2,000 characters) on a 2,000-character path (the URL
 * limit) takes ~1.2 ms; ordinary patterns take 10–55 ns a path (the old RegExp: 30–110 ns).
 */
export const MAX_GLOB_LIST_LENGTH = 2000;

const SEG = -1; // `*`
const ANY = -2; // `**`
const SLASH = 47;

/** `*` and `**` as tokens; runs of wildcards merge (`***` = `**` then `*` = `**`). */
function tokenize(p: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.length; i++) {
    let t = p.charCodeAt(i);
    if (t === 42) {
      if (p.charCodeAt(i + 1) === 42) (t = ANY), i++;
      else t = SEG;
      const last = out.length ? out[out.length - 1] : 0;
      if (last < 0) {
        out[out.length - 1] = last === ANY || t === ANY ? ANY : SEG;
        continue;
      }
    }
    out.push(t);
  }
  return out;
}

const literal = (toks: number[]) => String.fromCharCode(...toks);

/** One pattern as a matcher: the cheapest that is exact for its shape. */
function compileOne(p: string): PathTest {
  const toks = tokenize(p);
  const first = toks.findIndex((t) => t < 0);
  if (first < 0) return { test: (s) => s === p };
  const prefix = literal(toks.slice(0, first));
  if (first === toks.length - 1) {
    if (toks[first] === ANY) return { test: (s) => s.startsWith(prefix) };
    return { test: (s) => s.startsWith(prefix) && s.indexOf('/', prefix.length) < 0 };
  }
  let last = toks.length - 1;
  while (toks[last] >= 0) last--;
  const suffix = literal(toks.slice(last + 1));
  const nfa = toks.length < 32 ? smallNfa(toks) : wideNfa(toks);
  const fixed = prefix.length + suffix.length;
  return { test: (s) => s.length >= fixed && s.startsWith(prefix) && s.endsWith(suffix) && nfa(s) };
}

/**
 * Shift-and over one 32-bit word. Bit i live = tokens[0..i) matched. A character moves a live
 * literal state on when it matches, keeps a live wildcard state (`*` only on a non-`/`), and a
 * live wildcard state also makes the next state live (the wildcard matched nothing). Merged
 * wildcards are never adjacent, so that closure is one step.
 */
function smallNfa(toks: number[]): (s: string) => boolean {
  const ascii = new Int32Array(128);
  const other = new Map<number, number>();
  let wild = 0, any = 0;
  toks.forEach((t, i) => {
    const bit = 1 << i;
    if (t < 0) (wild |= bit), t === ANY && (any |= bit);
    else if (t < 128) ascii[t] |= bit;
    else other.set(t, (other.get(t) ?? 0) | bit);
  });
  const accept = 1 << toks.length;
  const start = 1 | ((1 & wild) << 1);
  return (s) => {
    let d = start;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const lit = c < 128 ? ascii[c] : other.get(c) ?? 0;
      d = (d & (c === SLASH ? any : wild)) | ((d & lit) << 1);
      d |= (d & wild) << 1;
      if (d === 0) return false;
    }
    return (d & accept) !== 0;
  };
}

/** The same over as many words as the pattern needs (long patterns: 32 tokens a word). */
function wideNfa(toks: number[]): (s: string) => boolean {
  const words = (toks.length + 1 + 31) >>> 5;
  const wild = new Int32Array(words), any = new Int32Array(words);
  const lits = new Map<number, Int32Array>();
  toks.forEach((t, i) => {
    const w = i >>> 5, bit = 1 << (i & 31);
    if (t < 0) {
      wild[w] |= bit;
      if (t === ANY) any[w] |= bit;
    } else {
      let m = lits.get(t);
      if (!m) lits.set(t, (m = new Int32Array(words)));
      m[w] |= bit;
    }
  });
  const n = toks.length;
  return (s) => {
    let d = new Int32Array(words);
    let next = new Int32Array(words);
    d[0] = 1 | ((1 & wild[0]) << 1);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const lit = lits.get(c);
      const keep = c === SLASH ? any : wild;
      let carry = 0, closeCarry = 0, live = 0;
      for (let w = 0; w < words; w++) {
        const moved = lit ? d[w] & lit[w] : 0;
        let v = (d[w] & keep[w]) | (moved << 1) | carry;
        carry = moved >>> 31;
        const t = v & wild[w];
        v |= (t << 1) | closeCarry;
        closeCarry = t >>> 31;
        next[w] = v;
        live |= v;
      }
      if (live === 0) return false;
      const tmp = d; d = next; next = tmp;
    }
    return (d[n >>> 5] & (1 << (n & 31))) !== 0;
  };
}

/**
 * A comma-separated list (`/admin/*, /drafts/**`) as one matcher, or null when it is empty.
 * Blank items are ignored, as before.
 */
export function compileGlobs(patterns: string): PathTest | null {
  const list = patterns.split(',').map((p) => p.trim()).filter(Boolean);
  if (list.length === 0) return null;
  const exact = new Set(list.filter((p) => !p.includes('*')));
  const rest = list.filter((p) => p.includes('*')).map(compileOne);
  if (rest.length === 0) return { test: (s) => exact.has(s) };
  if (exact.size === 0 && rest.length === 1) return rest[0];
  const n = rest.length;
  return {
    test: (s) => {
      if (exact.has(s)) return true;
      for (let i = 0; i < n; i++) if (rest[i].test(s)) return true;
      return false;
    },
  };
}

/** Why a list of patterns may not be saved, or null when it may. */
export function globListProblem(patterns: string): string | null {
  if (patterns.length > MAX_GLOB_LIST_LENGTH) return `the path patterns are longer than ${MAX_GLOB_LIST_LENGTH} characters`;
  return null;
}

const cache = new Map<string, PathTest | null>();
const MAX_CACHED = 256;

/** Does `value` match the pattern list? Compiled lists are cached (SQL calls this per row). */
export function globTest(patterns: string, value: string): boolean {
  let m = cache.get(patterns);
  if (m === undefined) {
    if (cache.size >= MAX_CACHED) cache.clear();
    m = compileGlobs(patterns);
    cache.set(patterns, m);
  }
  return m !== null && m.test(value);
}
