// A SQLite database as SQL text (schema, then every row as an INSERT, then indexes): the upgrade
// fixture is kept in git as text, not as a binary database file. 64-bit integers stay exact
// (visitor ids exceed 2^53), blobs become X'…' literals.
import Database from 'better-sqlite3';

const literal = (v: unknown): string => {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  return `'${String(v).replaceAll("'", "''")}'`;
};

export function dumpSql(file: string): string {
  const db = new Database(file, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    const objects = db.prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index', rowid").all() as Array<{ type: string; name: string; sql: string }>;
    const out: string[] = [];
    for (const o of objects) {
      out.push(`${o.sql};`);
      if (o.type !== 'table') continue;
      for (const row of db.prepare(`SELECT * FROM "${o.name}"`).raw(true).iterate() as Iterable<unknown[]>) {
        out.push(`INSERT INTO "${o.name}" VALUES (${row.map(literal).join(', ')});`);
      }
    }
    return `${out.join('\n')}\n`;
  } finally {
    db.close();
  }
}
