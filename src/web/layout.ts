// The HTML frame of every dashboard page, and the security headers they are sent with: a strict
// CSP (same-origin only, no inline script or style, no framing), no MIME sniffing, and no
// referrer leaving the dashboard.
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export function page(title: string, body: Html, opts: { user?: string; csrf?: string } = {}): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Hush</title><link rel="stylesheet" href="/assets/hush.css"><link rel="icon" href="/assets/icon.svg" type="image/svg+xml"></head>
<body><header class="top"><a class="brand" href="/">Hush</a>${opts.user ? html`<form method="post" action="/logout">
<a href="/account">${opts.user}</a> <input type="hidden" name="csrf" value="${opts.csrf}"><button class="link" type="submit">Log out</button></form>` : raw('')}</header>
<main>${body}</main></body></html>`;
}
