// Builds what the Worker imports but Node reads from disk, into src/edge/generated/ (git-ignored;
// wrangler runs this before every bundle, see wrangler.toml `[build]`):
//   countries.bin      the country tables packed by src/edge/country-pack.ts
//   migrations.txt     db/migrations (journal + SQL) as drizzle's durable-sqlite migrator takes them,
//                      and the schema they build (see src/edge/migrations.ts for why both)
//   hush.js.txt        public/hush.js, the page script (built first by scripts/build-beacon.mjs)
// Prints the sizes unless --quiet. A file is written only when its content changes: `wrangler dev`
// watches src/, and a rewrite of the same bytes would restart its build forever. The country table
// (~1 s to pack) is rebuilt only when its data package or the packing code changed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { applyMigrations } from '../src/store/db.ts';
import { loadCountryTables } from '../src/pseudonymize/country-data.ts';
import { packCountries } from '../src/edge/country-pack.ts';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'src/edge/generated');
const quiet = process.argv.includes('--quiet');
mkdirSync(out, { recursive: true });

/** Writes unless the file already holds exactly these bytes. */
function put(name: string, data: string | Uint8Array): void {
  const file = path.join(out, name);
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  if (existsSync(file) && readFileSync(file).equals(bytes)) return;
  writeFileSync(file, bytes);
}

const beacon = spawnSync(process.execPath, [path.join(root, 'scripts/build-beacon.mjs'), '--quiet'], { stdio: 'inherit' });
if (beacon.status !== 0) process.exit(beacon.status ?? 1);
put('hush.js.txt', readFileSync(path.join(root, 'public/hush.js')));

const migrationsDir = path.join(root, 'db/migrations');
const journal = JSON.parse(readFileSync(path.join(migrationsDir, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ idx: number; tag: string }> };
const migrations: Record<string, string> = {};
for (const e of journal.entries) migrations[`m${String(e.idx).padStart(4, '0')}`] = readFileSync(path.join(migrationsDir, `${e.tag}.sql`), 'utf8');

/** The schema (and seed rows) every migration together builds, as statements, from Node's own migrator. */
function baseline(): string[] {
  const db = new Database(':memory:');
  try {
    applyMigrations(db, migrationsDir);
    const objects = db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
      AND name NOT LIKE '__drizzle_migrations%' ORDER BY type = 'table' DESC, rowid`).all() as Array<{ type: string; name: string; sql: string }>;
    const out = objects.map((o) => o.sql);
    const literal = (v: unknown) => (v === null ? 'NULL' : typeof v === 'number' || typeof v === 'bigint' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
    for (const o of objects.filter((x) => x.type === 'table')) {
      for (const row of db.prepare(`SELECT * FROM "${o.name}"`).raw().all() as unknown[][]) {
        out.push(`INSERT INTO "${o.name}" VALUES (${row.map(literal).join(', ')})`);
      }
    }
    return out;
  } finally {
    db.close();
  }
}
put('migrations.txt', JSON.stringify({ journal, migrations, baseline: baseline() }));

const require = createRequire(import.meta.url);
const stamp = createHash('sha256')
  .update(readFileSync(require.resolve('@ip-location-db/geo-whois-asn-country/package.json')))
  .update(readFileSync(path.join(root, 'src/edge/country-pack.ts')))
  .update(readFileSync(path.join(root, 'src/pseudonymize/country.ts')))
  .digest('hex');
const started = Date.now();
let packed: Uint8Array;
if (existsSync(path.join(out, 'countries.bin')) && existsSync(path.join(out, 'countries.stamp')) && readFileSync(path.join(out, 'countries.stamp'), 'utf8') === stamp) {
  packed = readFileSync(path.join(out, 'countries.bin'));
} else {
  packed = packCountries(await loadCountryTables());
  put('countries.bin', packed);
  put('countries.stamp', stamp);
}
if (!quiet) {
  console.log(`src/edge/generated: countries.bin ${packed.length} bytes (${gzipSync(packed, { level: 9 }).length} gzipped, packed in ${Date.now() - started} ms), ` +
    `${journal.entries.length} migrations`);
}
