// A strict parser of the Prometheus text exposition format (0.0.4), for tests that read /metrics
// as data instead of grepping it: HELP and TYPE lines, samples with labels (escapes \\ \" \n),
// values including +Inf/NaN. Throws on any line it cannot read, and on a sample whose family
// has no TYPE, so a malformed scrape fails the test.

export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface Family { name: string; type: string; help: string; samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  const n = Number(v);
  if (v === '' || Number.isNaN(n)) throw new Error(`bad value ${JSON.stringify(v)}`);
  return n;
}

function parseLabels(s: string): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  while (s[i] !== '}') {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(s.slice(i));
    if (!m) throw new Error(`bad label at ${JSON.stringify(s.slice(i, i + 30))}`);
    i += m[0].length;
    let v = '';
    for (; s[i] !== '"'; i++) {
      if (i >= s.length) throw new Error('unterminated label value');
      if (s[i] === '\\') {
        i++;
        v += s[i] === 'n' ? '\n' : s[i];
      } else v += s[i];
    }
    labels[m[1]] = v;
    i++;
    if (s[i] === ',') i++;
  }
  return [labels, s.slice(i + 1)];
}

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: '', help: '', samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const f = family(meta[2]);
      if (meta[1] === 'HELP') f.help = meta[3];
      else if (['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3])) f.type = meta[3];
      else throw new Error(`bad TYPE line: ${line}`);
      continue;
    }
    if (line.startsWith('#')) continue;
    const nm = NAME.exec(line);
    if (!nm) throw new Error(`bad sample line: ${line}`);
    let rest = line.slice(nm[0].length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) [labels, rest] = parseLabels(rest);
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2) throw new Error(`bad sample line: ${line}`);
    const value = parseValue(parts[0]);
    const base = families.has(nm[0]) ? nm[0] : SUFFIXES.map((s) => (nm[0].endsWith(s) ? nm[0].slice(0, -s.length) : '')).find((b) => b && families.has(b));
    if (!base || !families.get(base)!.type) throw new Error(`sample ${nm[0]} has no TYPE`);
    families.get(base)!.samples.push({ name: nm[0], labels, value });
  }
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function sampleValue(families: Map<string, Family>, family: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(family);
  const hits = f?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) ?? [];
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
