// Sending through the operator's SMTP server with nodemailer. Nothing is sent without
// HUSH_SMTP_URL. smtp:// upgrades with STARTTLS when the server offers it and *requires* it when
// the URL carries credentials (a password never crosses the network in clear); smtps:// is TLS
// from the first byte. Certificates are always verified; HUSH_SMTP_CA adds one certificate to
// trust (a self-signed server) — there is no switch to turn verification off. Error messages
// are scrubbed of the URL's user name and password before anyone logs them.
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import type { Rendered } from './report.ts';

export class MailError extends Error {}

export interface OutgoingMail extends Rendered {
  to: string;
  /** The subscription's unsubscribe link (List-Unsubscribe, with one-click POST per RFC 8058). */
  unsubscribe?: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** Why e-mail is off, or null when it can be sent (scheduled mails also need HUSH_PUBLIC_URL). */
export function mailOff(config: Pick<Config, 'smtpUrl' | 'smtpFrom'>): string | null {
  if (!config.smtpUrl) return 'HUSH_SMTP_URL is not set';
  if (!config.smtpFrom) return 'HUSH_SMTP_FROM is not set';
  return null;
}

export function createMailer(config: Pick<Config, 'smtpUrl' | 'smtpFrom' | 'smtpCa'>): Mailer {
  const off = mailOff(config);
  if (off) throw new MailError(`e-mail is off: ${off}`);
  const u = new URL(config.smtpUrl!);
  const user = decodeURIComponent(u.username), pass = decodeURIComponent(u.password);
  const secure = u.protocol === 'smtps:';
  let ca: string | undefined;
  if (config.smtpCa) {
    try {
      ca = readFileSync(config.smtpCa, 'utf8');
    } catch {
      throw new MailError(`HUSH_SMTP_CA: cannot read ${config.smtpCa}`);
    }
  }
  const transport = nodemailer.createTransport({
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    requireTLS: !secure && user !== '',
    auth: user ? { user, pass } : undefined,
    tls: ca ? { ca: [ca] } : undefined,
    // A dead server must not hold the hourly tick (or the CLI) for minutes: 10 s / 20 s.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  const scrub = (m: string) => [user, pass, u.username, u.password].filter((s) => s.length >= 2)
    .reduce((acc, s) => acc.split(s).join('***'), m).split('\n')[0].slice(0, 300);
  return {
    async send(mail) {
      try {
        await transport.sendMail({
          from: config.smtpFrom, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html,
          headers: mail.unsubscribe ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : undefined,
          list: mail.unsubscribe ? { unsubscribe: mail.unsubscribe } : undefined,
        });
      } catch (e) {
        const err = e as Error & { code?: string };
        throw new MailError(`could not send through ${u.protocol}//${u.host.replace(/^.*@/, '')}: ${scrub(err.message)}${err.code ? ` (${err.code})` : ''}`);
      }
    },
    close: () => transport.close(),
  };
}
