// Regular expressions that someone else wrote: a Stats API key holder's `matches` filter runs over
// page paths that visitors chose. JS RegExp backtracks: `^/(a+)+$` on a 29-character path took
// 3.0 s and doubled per character, stalling every site's reports behind it. These run on re2js
// (RE2 in pure JS, so it also runs on workerd), linear in the input, with RE2's syntax: the same
// `matches` as Plausible's (ClickHouse `match`, also RE2). What RE2 refuses (backreferences,
// lookaround) is refused here too, as a RegexError with a short reason.
import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';

/**
 * Longest pattern accepted. Compile time, memory and the fallback NFA's cost per input character
 * grow with the pattern; 500 characters is several times any real path pattern. With the cost cap
 * below, the slowest accepted pattern found took ~1.5 ms to test a 2,000-character path (the URL
 * limit); a typical one takes 0.1–0.4 µs a short path, ~5× JS RegExp (measured on 100k paths).
 */
export const MAX_PATTERN_LENGTH = 500;
/**
 * The most instructions a pattern may expand to (regexCost). Counted repetitions multiply: RE2
 * allows `{1000}`, and 500 characters of `a[ab]{999}…` compiled to 50,000 instructions in 400 ms
 * on the reports thread. Compiling costs ~2–7 µs an instruction (measured), so 2,000 (two
 * `[ab]{999}`) compiles in ~5–15 ms, and a refused pattern costs ~0.2 ms to refuse.
 */
export const MAX_PATTERN_COST = 2000;
/** What an error message may quote of a pattern: never the whole of a long one. */
const QUOTE_MAX = 100;
const MAX_CACHED = 256;

export class RegexError extends Error {}

const cache = new Map<string, RE2JS>();

const quote = (s: string) => JSON.stringify(s.length > QUOTE_MAX ? `${s.slice(0, QUOTE_MAX)}…` : s);

/**
 * An estimate of RE2's program size (RE2JS.programSize), read from the text without compiling:
 * each atom (a character, an escape, a class), operator and group counts its instructions, times
 * the counts of the `{n,m}` around it. On random patterns the real size stays under 1.3 × (this
 * + 4) (test/matchers checks 1.5 ×). Invalid text may be miscounted; RE2 refuses it anyway.
 */
export function regexCost(p: string): number {
  const groups: number[] = [0];
  let last = 0; // the size of what a following `{n,m}` repeats
  const add = (k: number) => {
    groups[groups.length - 1] += k;
    last = k;
  };
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      const e = p[++i];
      if ((e === 'p' || e === 'P' || e === 'x') && p[i + 1] === '{') i = Math.max(i, p.indexOf('}', i));
      else if (e === 'Q') {
        const end = p.indexOf('\\E', i);
        const stop = end < 0 ? p.length : end;
        groups[groups.length - 1] += Math.max(0, stop - i - 2);
        i = end < 0 ? p.length : end + 1;
      }
      add(1);
    } else if (c === '[') {
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') j++;
      for (; j < p.length && p[j] !== ']'; j++) {
        if (p[j] === '\\') j++;
        else if (p[j] === '[' && p[j + 1] === ':') j = Math.max(j, p.indexOf(':]', j + 2) + 1);
      }
      i = j;
      add(1);
    } else if (c === '(') {
      if (p[i + 1] === '?') {
        // (?flags) sets flags; (?flags:…), (?P<name>…), (?<name>…) open a group.
        let j = i + 2;
        while (j < p.length && !':)>'.includes(p[j])) j++;
        i = j;
        if (p[j] === ')') continue;
      }
      groups.push(2); // a capture's two instructions
    } else if (c === ')') {
      const g = groups.length > 1 ? groups.pop()! : 0;
      add(g);
    } else if (c === '{') {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(p.slice(i, i + 16));
      if (!m) add(1);
      else {
        // x{2,4} compiles as xx(x(x)?)?: each optional copy adds a split.
        const min = Number(m[1]), n = Math.max(min, m[2] ? Number(m[2]) : 0);
        const size = last * Math.max(1, n) + (n - min) + 1;
        groups[groups.length - 1] += size - last;
        last = size;
        i += m[0].length - 1;
      }
    } else if (c === '*' || c === '+' || c === '?' || c === '|') {
      groups[groups.length - 1]++; // a split instruction
      last++;
    } else add(1);
  }
  return groups.reduce((a, b) => a + b, 0);
}

/** The compiled pattern (cached), or a RegexError saying briefly why RE2 refuses it. */
export function compileRegex(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (re) return re;
  if (pattern.length > MAX_PATTERN_LENGTH) throw new RegexError(`longer than ${MAX_PATTERN_LENGTH} characters`);
  if (regexCost(pattern) > MAX_PATTERN_COST) {
    throw new RegexError(`its counted repetitions ({n,m}) expand to more than ${MAX_PATTERN_COST} instructions`);
  }
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    if (e instanceof RE2JSSyntaxException) {
      const at = e.getPattern();
      throw new RegexError(`${e.getDescription()}${at ? ` at ${quote(at)}` : ''}`);
    }
    if (e instanceof RE2JSException) throw new RegexError(e.message.slice(0, QUOTE_MAX));
    throw e;
  }
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** True when `pattern` matches somewhere in `value` (unanchored, like RegExp.prototype.test). */
export function regexTest(pattern: string, value: string): boolean {
  return compileRegex(pattern).test(value);
}
