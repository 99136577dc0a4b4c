// `hush user add <email> [--admin | --site <domain> [--role owner|viewer]] [--password-stdin]`:
// dashboard accounts from the command line. The password comes from standard input or a prompt
// that does not echo; it is never an argument (arguments end up in shell history and `ps`).
import { createInterface } from 'node:readline';
import { loadConfig } from '../config.ts';
import { openDb } from '../store/db.ts';
import { SiteRepo, normalizeDomain } from '../store/sites.ts';
import { AccountError, UserRepo, normalizeEmail, type Role } from '../accounts/users.ts';
import { UsageError, Failure } from './errors.ts';

export const USER_HELP = `Usage: hush user add <email> (--admin | --site <domain> [--role owner|viewer]) [--password-stdin]

Creates a dashboard account. --admin sees and manages every site; otherwise the account sees the
given site as an owner (default) or a viewer. Adding an existing e-mail with --site grants it
that site. The password (at least 10 characters) is read from a prompt, or from standard input
with --password-stdin.`;

async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    let data = '';
    for await (const chunk of process.stdin) data += chunk;
    return data.replace(/\r?\n$/, '');
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  // Typed characters are not echoed: only the prompt is written.
  const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
  let prompting = true;
  out._writeToOutput = (s: string) => { if (prompting) out.output.write(s); };
  const answer = await new Promise<string>((resolve) => {
    rl.question('Password: ', resolve);
    prompting = false;
  });
  rl.close();
  process.stdout.write('\n');
  return answer;
}

export async function userCommand(sub: string | undefined, positionals: string[], values: Record<string, string | boolean | undefined>): Promise<void> {
  if (sub !== 'add') throw new UsageError(`user: unknown subcommand "${sub ?? ''}" (add)`);
  if (positionals.length !== 1) throw new UsageError('user add: give one <email>');
  const email = normalizeEmail(positionals[0]);
  if (!email) throw new UsageError(`user add: "${positionals[0].slice(0, 100)}" is not an e-mail address`);
  const admin = values.admin === true;
  const role = (values.role as string | undefined) ?? 'owner';
  if (role !== 'owner' && role !== 'viewer') throw new UsageError('user add: --role must be owner or viewer');
  const siteArg = values.site as string | undefined;
  if (admin === (siteArg !== undefined)) throw new UsageError('user add: give either --admin or --site <domain>');
  const domain = siteArg === undefined ? null : normalizeDomain(siteArg);
  if (siteArg !== undefined && !domain) throw new UsageError(`user add: "${siteArg}" is not a domain name`);
  const config = loadConfig();
  const store = openDb(config.dbPath, { synchronous: config.synchronous });
  try {
    const users = new UserRepo(store.db);
    const site = domain ? new SiteRepo(store.db).byDomain(domain) : null;
    if (domain && !site) throw new Failure(`user add: no site ${domain} (see hush site list)`);
    let user = users.byEmail(email);
    if (!user) {
      try {
        user = await users.create(email, await readPassword(values['password-stdin'] === true), admin);
      } catch (e) {
        if (e instanceof AccountError) throw new UsageError(`user add: ${e.message}`);
        throw e;
      }
      console.log(`Created ${admin ? 'administrator ' : ''}${email}.`);
    } else if (admin) {
      throw new Failure(`user add: there is already a user ${email}`);
    }
    if (site) {
      users.grant(user.id, site.id, role as Role);
      console.log(`${email} can now see ${site.domain} as ${role}.`);
    }
  } finally {
    store.close();
  }
}
