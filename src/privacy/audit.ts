// `hush audit`: evidence instead of trust. Read-only (a read-only connection plus plain file
// reads, safe beside a live server). Checks the schema against the data inventory, every text and
// blob value and the raw bytes of the database file and its WAL for IP addresses, user-agent
// strings and e-mail addresses (and, with --ips, for given addresses in any textual or binary
// form), key ages, retention and the k floor. Findings name the table and column (or the file
// and offset) and show samples masked, so the report itself leaks nothing.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import ipaddr from 'ipaddr.js';
import { INVENTORY, SYSTEM_TABLES } from './inventory.ts';
import { retentionCutoff } from './retention.ts';
import { utcDay, DAY_MS } from '../pseudonymize/daily-keys.ts';
import { maskIps } from '../import/mask.ts';
import { ipsIn, USER_AGENT as UA, EMAIL } from './personal-data.ts';

export interface Finding {
  check: 'schema' | 'ip' | 'user-agent' | 'email' | 'given-ip' | 'key-age' | 'retention' | 'k-floor';
  /** table.column, or the file and byte offset */
  where: string;
  detail: string;
}

export interface AuditReport {
  database: string;
  at: string;
  checks: Array<{ name: string; ok: boolean; findings: number }>;
  findings: Finding[];
  clean: boolean;
}

export interface AuditOptions {
  /** Addresses to look for in every form (hush audit --ips FILE). */
  ips?: string[];
  /** Lowest acceptable min_visitors (HUSH_MIN_K_FLOOR, default 3). */
  kFloor?: number;
  now?: number;
}

/** An e-mail shown in a finding: its first letter and domain only. */
const maskEmail = (e: string) => e.replace(/^[^@]+/, (l) => `${l[0]}***`);

/** Every form a given address may take: text (compressed, expanded, mapped), decimal, hex, raw bytes. */
function forms(ip: string): { texts: string[]; bytes: Buffer; int: number | null } {
  const a = ipaddr.process(ip);
  const bytes = Buffer.from(a.toByteArray());
  if (a.kind() === 'ipv4') {
    const n = bytes.readUInt32BE(0);
    const hex = bytes.toString('hex');
    return { texts: [a.toString(), `::ffff:${a.toString()}`, hex, hex.toUpperCase(), String(n)], bytes, int: n };
  }
  const v6 = a as ipaddr.IPv6;
  const full = v6.parts.map((p) => p.toString(16).padStart(4, '0')).join(':');
  return { texts: [v6.toString(), v6.toNormalizedString(), full, bytes.toString('hex')], bytes, int: null };
}

/** The one column whose purpose is an e-mail address: the dashboard login (declared in the inventory). */
const LOGIN_EMAIL = 'users.email';

/** Scans one value; pushes findings (deduplicated per place and kind by the caller). */
function scanText(text: string, where: string, givens: ReturnType<typeof forms>[], add: (f: Finding) => void): void {
  for (const ip of ipsIn(text)) add({ check: 'ip', where, detail: `an IP address (${maskIps(ip)})` });
  if (UA.test(text)) add({ check: 'user-agent', where, detail: `a user-agent string ("${text.slice(0, 24)}…")` });
  const e = where === LOGIN_EMAIL ? null : EMAIL.exec(text);
  if (e) add({ check: 'email', where, detail: `an e-mail address (${maskEmail(e[0])})` });
  for (const g of givens) {
    if (g.texts.some((t) => text.includes(t))) add({ check: 'given-ip', where, detail: `one of the --ips addresses (${maskIps(g.texts[0])}) as text` });
  }
}

export function audit(dbPath: string, opts: AuditOptions = {}): AuditReport {
  const now = opts.now ?? Date.now();
  const kFloor = opts.kFloor ?? 3;
  const givens = (opts.ips ?? []).map(forms);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (f: Finding) => {
    const k = `${f.check}|${f.where}`;
    if (!seen.has(k)) {
      seen.add(k);
      findings.push(f);
    }
  };
  const counts = new Map<string, number>();
  const done = (name: string, before: number) => counts.set(name, findings.length - before);

  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    // 1. Schema: every table and column must be declared in the inventory.
    let before = findings.length;
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>)
      .map((t) => t.name).filter((t) => !SYSTEM_TABLES.has(t));
    const columns = new Map<string, Array<{ name: string; type: string }>>();
    for (const t of tables) {
      const cols = db.prepare('SELECT name, type FROM pragma_table_info(?)').all(t) as Array<{ name: string; type: string }>;
      columns.set(t, cols);
      if (!INVENTORY[t]) add({ check: 'schema', where: t, detail: 'a table not declared in the data inventory' });
      else for (const c of cols) if (!INVENTORY[t][c.name]) add({ check: 'schema', where: `${t}.${c.name}`, detail: 'a column not declared in the data inventory' });
    }
    done('schema matches the data inventory', before);

    // 2. The raw bytes of the file and its WAL: every stored value is in them, and so are
    // deleted rows that linger on free pages. What is found here is then located by column.
    const before2 = findings.length;
    const tokens = new Set<string>();
    let emailHint = false;
    for (const file of [dbPath, `${dbPath}-wal`]) {
      if (!existsSync(file)) continue;
      const label = file.endsWith('-wal') ? 'WAL' : 'database file';
      scanFile(file, (chunk, offset) => {
        const text = chunk.toString('latin1');
        for (const ip of ipsIn(text)) {
          tokens.add(ip);
          add({ check: 'ip', where: label, detail: `an IP address (${maskIps(ip)}) near byte ${offset}` });
        }
        const ua = UA.exec(text);
        if (ua) {
          tokens.add(ua[0]);
          add({ check: 'user-agent', where: label, detail: `a user-agent string near byte ${offset}` });
        }
        // An e-mail pattern in raw bytes is only a hint: record bytes glue values together
        // without separators, and an '@' byte inside a binary integer followed by a host name
        // looks like one. The value scan below confirms or dismisses it.
        if (EMAIL.test(text)) emailHint = true;
        // Raw 4-byte IPv4 forms are looked for in blob values only (below): in a gigabyte of
        // binary pages any 4 bytes occur by chance (about one false match per 4 MiB per address).
        for (const g of givens) {
          if (g.texts.some((x) => text.includes(x)) || (g.bytes.length === 16 && chunk.includes(g.bytes))) {
            add({ check: 'given-ip', where: label, detail: `one of the --ips addresses near byte ${offset}` });
          }
        }
      });
    }
    const fileFindings = findings.length - before2;

    // 3. Every text and blob value, to name the table and column of what the file scan found.
    // SQLite narrows the rows first, in C: values containing a string the file scan found, values
    // long enough to span overflow pages (where a match could straddle a page boundary), and
    // text or blobs stored in a non-text column. A clean 10M-row table is then one cheap scan.
    // With --ips every value is looked at: the forms searched for (decimal, hex) match anything.
    before = findings.length;
    const q = (n: string) => `"${n.replace(/"/g, '""')}"`;
    const lit = (x: string) => `'${x.replace(/'/g, "''")}'`;
    // Up to 200 found strings are searched for exactly; past that, by what they have in common.
    const found = tokens.size <= 200 ? [...tokens] : [':', 'Mozilla/', 'WebKit/', 'Gecko/'];
    const generic = (c: string) => (tokens.size > 200 ? ` OR ${c} GLOB '*[0-9].[0-9]*.[0-9]*'` : '');
    for (const t of tables) {
      const cols = columns.get(t)!;
      const suspect = (col: { name: string; type: string }) => /TEXT/i.test(col.type)
        ? `(octet_length(${q(col.name)}) > 2000${found.map((tok) => ` OR instr(${q(col.name)}, ${lit(tok)})`).join('')}${
          emailHint ? ` OR instr(${q(col.name)}, '@')` : ''}${generic(q(col.name))})`
        : `typeof(${q(col.name)}) IN ('text', 'blob')`;
      const where = givens.length ? '' : `WHERE ${cols.map(suspect).join(' OR ')}`;
      const stmt = db.prepare(`SELECT ${cols.map((col) => q(col.name)).join(', ')} FROM ${q(t)} ${where}`).raw(true);
      const checked = cols.map(() => new Set<string>());
      for (const row of stmt.iterate() as Iterable<unknown[]>) {
        for (let i = 0; i < cols.length; i++) {
          const v = row[i];
          const place = `${t}.${cols[i].name}`;
          if (typeof v === 'string') {
            // the same value repeats across rows (a path, a props object): check it once
            if (checked[i].has(v)) continue;
            if (checked[i].size < 100_000) checked[i].add(v);
            scanText(v, place, givens, add);
          } else if (Buffer.isBuffer(v)) {
            scanText(v.toString('latin1'), place, givens, add);
            for (const g of givens) if (v.includes(g.bytes)) add({ check: 'given-ip', where: place, detail: `one of the --ips addresses (${maskIps(g.texts[0])}) as raw bytes` });
          } else if (typeof v === 'number' || typeof v === 'bigint') {
            for (const g of givens) if (g.int !== null && Number(v) === g.int) add({ check: 'given-ip', where: place, detail: `one of the --ips addresses (${maskIps(g.texts[0])}) as a 32-bit integer` });
          }
        }
      }
    }
    done('no IP address, user-agent or e-mail in any value', before);
    counts.set('no IP address or user-agent in the raw bytes of the database file and WAL', fileFindings);

    // 4. Keys: nothing older than yesterday (UTC), i.e. within 48 h after its day ended.
    before = findings.length;
    const oldest = utcDay(now - DAY_MS);
    for (const { day } of db.prepare('SELECT day FROM daily_keys WHERE day < ?').all(oldest) as Array<{ day: string }>) {
      add({ check: 'key-age', where: `daily_keys (${day})`, detail: `the key of ${day} should have been deleted (keys older than ${oldest} must not exist)` });
    }
    done('no daily key past its lifetime', before);

    // 5. Retention and k.
    before = findings.length;
    const sites = db.prepare('SELECT id, domain, timezone, retention_days AS days, min_visitors AS k FROM sites').all() as
      Array<{ id: number; domain: string; timezone: string; days: number; k: number }>;
    const expired = db.prepare('SELECT count(*) AS n FROM events WHERE site_id = ? AND ts < ?');
    for (const s of sites) {
      const n = (expired.get(s.id, retentionCutoff(now, s.days, s.timezone)) as { n: number }).n;
      if (n > 0) add({ check: 'retention', where: `events (${s.domain})`, detail: `${n} events older than the site's ${s.days}-day retention` });
    }
    done('retention enforced for every site', before);
    before = findings.length;
    for (const s of sites) {
      if (s.k < kFloor) add({ check: 'k-floor', where: `sites.min_visitors (${s.domain})`, detail: `k = ${s.k} is below the floor of ${kFloor}` });
    }
    done(`every site's min_visitors ≥ ${kFloor}`, before);
  } finally {
    db.close();
  }
  return {
    database: dbPath,
    at: new Date(now).toISOString(),
    checks: [...counts].map(([name, n]) => ({ name, ok: n === 0, findings: n })),
    findings,
    clean: findings.length === 0,
  };
}

/** Reads a file in 16 MiB chunks overlapping by 256 bytes, so no match straddles a boundary unseen. */
function scanFile(file: string, onChunk: (chunk: Buffer, offset: number) => void): void {
  const CHUNK = 16 << 20, OVERLAP = 256;
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(CHUNK + OVERLAP);
    for (let offset = 0; offset < size; offset += CHUNK) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK + OVERLAP, size - offset), offset);
      onChunk(buf.subarray(0, n), offset);
    }
  } finally {
    closeSync(fd);
  }
}

/** The report as a person reads it. */
export function formatReport(r: AuditReport): string {
  const lines = [`Hush privacy audit of ${r.database} at ${r.at}`, ''];
  for (const c of r.checks) lines.push(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.ok ? '' : ` (${c.findings} finding${c.findings === 1 ? '' : 's'})`}`);
  if (r.findings.length) {
    lines.push('', 'Findings:');
    for (const f of r.findings) lines.push(`  [${f.check}] ${f.where}: ${f.detail}`);
  }
  lines.push('', r.clean ? 'Clean: nothing found.' : `${r.findings.length} finding(s).`);
  return lines.join('\n');
}
