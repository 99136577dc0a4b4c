// The server's report mails: at start and hourly, each subscription whose latest due period
// (periods.ts, in the site's time zone) is after its `last_sent` gets that period's report, once.
// Only the latest period is sent: a server down for three weeks sends one late report, not
// three. The period is claimed in the database before the send (a restart or a second process
// cannot send it again) and given back if the send fails, so the next hour retries.
// Without HUSH_SMTP_URL (or HUSH_PUBLIC_URL, for the unsubscribe link) it does nothing and says
// so once. Log lines name the site, the period and the subscription id: never an e-mail address
// or anything of the SMTP URL.
import type { Config } from '../config.ts';
import type { SiteRepo } from '../store/sites.ts';
import type { UserRepo } from '../accounts/users.ts';
import { createMailer, mailOff, type Mailer } from './mailer.ts';
import { latestDue } from './periods.ts';
import { buildReport, renderReport, type ReportQuery } from './report.ts';
import { SubscriptionRepo, unsubscribeToken } from './subscriptions.ts';

/** Due reports are looked for hourly: a report is due from 06:00 local, so it leaves by 07:00. */
export const CHECK_MS = 3_600_000;

export interface SchedulerDeps {
  config: Pick<Config, 'smtpUrl' | 'smtpFrom' | 'smtpCa' | 'publicUrl'>;
  subscriptions: SubscriptionRepo;
  sites: SiteRepo;
  users: UserRepo;
  query: ReportQuery;
  clock: () => number;
  log: (line: string) => void;
  /** Tests may inject one; otherwise made from the config. */
  mailer?: Mailer;
}

/** The URL of a subscription's unsubscribe link. */
export const unsubscribeUrl = (publicUrl: string, token: string) => `${publicUrl}/email/unsubscribe?t=${encodeURIComponent(token)}`;

export class EmailScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private mailer: Mailer | null = null;
  /** Why mail is off, or null. */
  readonly off: string | null;

  constructor(private readonly deps: SchedulerDeps) {
    this.off = mailOff(deps.config) ?? (deps.config.publicUrl ? null : 'HUSH_PUBLIC_URL is not set (each mail needs its unsubscribe link)');
  }

  /** Checks now and then hourly. Logs once when e-mail reports are off. */
  start(): void {
    if (this.off) return this.deps.log(`e-mail reports are off: ${this.off}`);
    this.deps.log('e-mail reports are on: due reports are checked hourly');
    const run = () => void this.tick().catch((e) => this.deps.log(`e-mail reports: ${(e as Error).message}`));
    run();
    this.timer = setInterval(run, CHECK_MS);
    this.timer.unref();
  }

  /** Sends every due report; resolves with how many were sent. One tick at a time. */
  tick(): Promise<number> {
    if (this.off) return Promise.resolve(0);
    this.running ??= this.sendDue().finally(() => { this.running = null; });
    return this.running;
  }

  private async sendDue(): Promise<number> {
    const { subscriptions, sites, users, clock, log } = this.deps;
    this.mailer ??= this.deps.mailer ?? createMailer(this.deps.config);
    let sent = 0;
    for (const sub of subscriptions.list()) {
      const site = sites.byId(sub.siteId);
      const user = users.byId(sub.userId);
      if (!site || !user) continue;
      // Access taken away since subscribing: the subscription goes with it.
      if (!users.roleOn(user, site.id)) {
        subscriptions.remove(sub.id);
        continue;
      }
      const period = latestDue(sub.period, clock(), site.timezone);
      if (sub.lastSent !== null && sub.lastSent >= period.from) continue;
      if (!subscriptions.claim(sub.id, period.from)) continue;
      const what = `${sub.period}ly report of ${site.domain} for ${period.from}..${period.to} (subscription ${sub.id})`;
      try {
        const url = unsubscribeUrl(this.deps.config.publicUrl!, unsubscribeToken(sub));
        const mail = renderReport(await buildReport(this.deps.query, site, period), url);
        await this.mailer.send({ ...mail, to: user.email, unsubscribe: url });
        sent++;
        log(`e-mail reports: sent the ${what}`);
      } catch (e) {
        subscriptions.release(sub.id, period.from, sub.lastSent);
        log(`e-mail reports: the ${what} was not sent, retrying within the hour: ${(e as Error).message}`);
      }
    }
    return sent;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => 0);
    if (!this.deps.mailer) this.mailer?.close();
  }
}
