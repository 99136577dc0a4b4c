// `hush report send`: one report mail now, for the last complete week or month, to any address
// (a one-off has no subscription, so no unsubscribe link). Refuses before touching the database
// when e-mail is not configured: no mail leaves without HUSH_SMTP_URL.
import { loadConfig } from '../config.ts';
import { openDb } from '../store/db.ts';
import { SiteRepo, normalizeDomain } from '../store/sites.ts';
import { GoalRepo } from '../store/goals.ts';
import { normalizeEmail } from '../accounts/users.ts';
import { registerReportFunctions } from '../reports/sql-functions.ts';
import { runQuery } from '../reports/engine.ts';
import { UsageError, Failure } from '../cli/errors.ts';
import { createMailer, mailOff, MailError } from './mailer.ts';
import { latestDue, type PeriodKind } from './periods.ts';
import { buildReport, renderReport } from './report.ts';

export const REPORT_SEND_HELP = `Usage: hush report send --site <domain> --to <email> [--period week|month]

Sends one e-mail report of the site now: the last complete week (Monday to Sunday, default) or
month in the site's time zone, with the change against the one before, top pages, sources and
countries (rows under the site's k folded into "(other)"). Needs HUSH_SMTP_URL
(smtp://user:password@host:587 for STARTTLS, smtps://…:465 for TLS) and HUSH_SMTP_FROM.
HUSH_SMTP_CA names a PEM certificate to trust besides the system's (a self-signed server).
The server sends subscribed reports by itself (account page, "E-mail reports").`;

type Values = Record<string, string | boolean | undefined>;

export async function reportCommand(sub: string | undefined, values: Values, positionals: string[]): Promise<void> {
  if (sub !== 'send') throw new UsageError(`report: unknown subcommand "${sub ?? ''}" (send)`);
  if (positionals.length) throw new UsageError(`report send: unexpected argument "${positionals[0]}"`);
  const rawSite = values.site as string | undefined;
  if (!rawSite) throw new UsageError('report send: missing --site <domain>');
  const domain = normalizeDomain(rawSite);
  if (!domain) throw new UsageError(`report send: "${rawSite}" is not a domain name (e.g. example.com)`);
  const rawTo = values.to as string | undefined;
  if (!rawTo) throw new UsageError('report send: missing --to <email>');
  const to = normalizeEmail(rawTo);
  if (!to) throw new UsageError(`report send: --to "${rawTo.slice(0, 100)}" is not an e-mail address`);
  const period = ((values.period as string | undefined) ?? 'week') as PeriodKind;
  if (period !== 'week' && period !== 'month') throw new UsageError(`report send: --period must be week or month, got "${String(values.period).slice(0, 40)}"`);

  const config = loadConfig();
  const off = mailOff(config);
  if (off) throw new Failure(`report send: e-mail is not configured (${off}); set HUSH_SMTP_URL=smtp://user:password@host:587 and HUSH_SMTP_FROM`);
  const store = openDb(config.dbPath, { synchronous: config.synchronous });
  let mail;
  try {
    registerReportFunctions(store.sqlite);
    const site = new SiteRepo(store.db).byDomain(domain);
    if (!site) throw new Failure(`report send: no site ${domain} (see hush site list)`);
    const goals = new GoalRepo(store.db).list(site.id);
    const now = Date.now();
    const p = latestDue(period, now, site.timezone);
    mail = { p, ...renderReport(await buildReport((s, body) => runQuery({ sqlite: store.sqlite, site: s, goals, now }, body), site, p)) };
  } finally {
    store.close();
  }
  const mailer = createMailer(config);
  try {
    await mailer.send({ ...mail, to });
  } catch (e) {
    if (e instanceof MailError) throw new Failure(`report send: ${e.message}`);
    throw e;
  } finally {
    mailer.close();
  }
  console.log(`Sent the ${period}ly report of ${domain} for ${mail.p.from} to ${mail.p.to} to ${to}.`);
}
