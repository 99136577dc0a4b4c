// `hush backup` and the server's daily copy: an online, consistent copy of the database while hits
// keep arriving. VACUUM INTO reads one snapshot inside a read transaction (in WAL mode writers go
// on meanwhile) and writes a compact copy without free pages, so rows deleted before the backup do
// not travel with it. The copy is written under a temporary name beside the target; the daily keys
// are deleted from it (secure_delete, with no journal file, so their bytes are zeroed and leave no
// trace beside it); it is checked (quick_check) and synced; and only then linked to the target name
// — a link fails when the target exists, so a target is never half-written nor overwritten.
// Without the keys a backup can be kept as long as the data's retention allows: the 48-hour key
// promise does not depend on how long backups are kept. Restoring one starts fresh keys.
import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, renameSync, statSync, statfsSync, unlinkSync } from 'node:fs';
import path from 'node:path';

export class BackupError extends Error {}

export interface BackupResult {
  file: string;
  bytes: number;
  ms: number;
}

/** SQLite and system error codes that mean "no room left" on the target. */
const FULL = new Set(['SQLITE_FULL', 'ENOSPC', 'EFBIG', 'EDQUOT']);
const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`;

/** Space available to this user in `dir`, for error messages. */
function free(dir: string): string {
  try {
    const s = statfsSync(dir);
    return mb(s.bavail * s.bsize);
  } catch {
    return 'unknown';
  }
}

function fsyncPath(p: string, flags: string): void {
  const fd = openSync(p, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Copies the database at `source` to `target`, which must not exist; throws BackupError with a plain message. */
export function backupDatabase(source: string, target: string, now = Date.now): BackupResult {
  const t0 = now();
  if (!existsSync(source)) throw new BackupError(`no database at ${source} (set HUSH_DB)`);
  if (existsSync(target)) throw new BackupError(`${target} already exists: choose a new name or remove it first`);
  const dir = path.dirname(path.resolve(target));
  if (!existsSync(dir)) throw new BackupError(`folder ${dir} does not exist`);
  const tmp = `${target}.partial-${process.pid}`;
  if (existsSync(tmp)) unlinkSync(tmp);
  let needed = 0;
  try {
    // Readable by the owner only from its first byte: a copy holds the accounts' password hashes
    // and two-factor secrets. VACUUM INTO accepts an empty file.
    closeSync(openSync(tmp, 'wx', 0o600));
    const src = new Database(source, { readonly: true, fileMustExist: true });
    try {
      src.pragma('busy_timeout = 5000');
      const pages = (src.pragma('page_count', { simple: true }) as number) - (src.pragma('freelist_count', { simple: true }) as number);
      needed = pages * (src.pragma('page_size', { simple: true }) as number);
      src.prepare('VACUUM INTO ?').run(tmp);
    } finally {
      src.close();
    }
    const copy = new Database(tmp);
    try {
      // A plain rollback-journal file, and no journal at all while the keys are deleted: the
      // page that held them must not survive in a journal beside the copy.
      copy.pragma('journal_mode = DELETE');
      copy.pragma('journal_mode = OFF');
      copy.pragma('secure_delete = ON');
      copy.prepare('DELETE FROM daily_keys').run();
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new BackupError(`the copy failed SQLite's quick_check (${String(check).slice(0, 200)}); the source may be damaged: run PRAGMA integrity_check on it`);
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    fsyncPath(tmp, 'r+');
    try {
      linkSync(tmp, target); // EEXIST if the target appeared meanwhile: never overwritten
      unlinkSync(tmp);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new BackupError(`${target} already exists: choose a new name or remove it first`);
      // A file system without hard links: check, then rename (a rename is atomic, not exclusive).
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw e;
      if (existsSync(target)) throw new BackupError(`${target} already exists: choose a new name or remove it first`);
      renameSync(tmp, target);
    }
    fsyncPath(dir, 'r');
  } catch (e) {
    try {
      if (existsSync(tmp)) unlinkSync(tmp);
    } catch { /* the error below matters more */ }
    if (e instanceof BackupError) throw e;
    const code = String((e as { code?: string }).code ?? '');
    if (FULL.has(code) || /database or disk is full/i.test((e as Error).message)) {
      throw new BackupError(`no space left in ${dir} for the backup (about ${mb(needed)} needed, ${free(dir)} free): nothing was written`);
    }
    // SQLite reports a write that failed outright (not short) as an I/O error, whatever errno was.
    if (code.startsWith('SQLITE_IOERR') || code === 'EIO') {
      throw new BackupError(`could not write the backup in ${dir} (${code}: the disk is full or failing; about ${mb(needed)} needed, ${free(dir)} free): nothing was written`);
    }
    if (code === 'SQLITE_CANTOPEN' || code === 'EACCES') throw new BackupError(`cannot write in ${dir} (${code})`);
    throw e;
  }
  return { file: target, bytes: statSync(target).size, ms: now() - t0 };
}

/** File names of the server's daily copies: hush-YYYY-MM-DD.db. */
const DAILY = /^hush-\d{4}-\d{2}-\d{2}\.db$/;

export interface DailyResult {
  /** The copy written now, or null when today's already existed. */
  written: BackupResult | null;
  /** Older copies deleted to keep `keep`. */
  deleted: string[];
}

/** Today's (UTC) copy in `dir` unless it exists, then only the newest `keep` copies are kept. */
export function dailyBackup(source: string, dir: string, keep: number, now = Date.now()): DailyResult {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A copy a crash left half-made is garbage: its complete name was never given to it.
  for (const f of readdirSync(dir)) if (/^hush-\d{4}-\d{2}-\d{2}\.db\.partial-\d+$/.test(f)) unlinkSync(path.join(dir, f));
  const name = `hush-${new Date(now).toISOString().slice(0, 10)}.db`;
  const target = path.join(dir, name);
  const written = existsSync(target) ? null : backupDatabase(source, target);
  const copies = readdirSync(dir).filter((f) => DAILY.test(f)).sort().reverse();
  const deleted = copies.slice(keep);
  for (const f of deleted) unlinkSync(path.join(dir, f));
  return { written, deleted };
}
