// The dashboard's stylesheet, served from memory at /assets/hush.css: no external fonts or CDNs,
// light and dark from prefers-color-scheme, readable on a phone.
import { createHash } from 'node:crypto';

export const CSS = `
:root { color-scheme: light dark; --bg: #fbfbfa; --fg: #1d1d1b; --muted: #6b6b66; --line: #e3e3de; --accent: #3554d1; --bad: #b3261e; --card: #fff; }
@media (prefers-color-scheme: dark) { :root { --bg: #151514; --fg: #ececea; --muted: #a3a39c; --line: #2e2e2b; --accent: #8ea2ff; --bad: #ff8a80; --card: #1d1d1b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem 1rem 4rem; }
header.top { display: flex; gap: 1rem; align-items: center; justify-content: space-between; border-bottom: 1px solid var(--line); padding: .75rem 1rem; }
header.top .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
form.card, section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1.25rem; max-width: 26rem; margin: 2rem auto; }
label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
input[type=email], input[type=password], input[type=text] { width: 100%; padding: .6rem .7rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); font: inherit; }
button { margin-top: 1rem; padding: .6rem 1rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
button.link { background: none; color: var(--accent); padding: 0; margin: 0; font-weight: 400; }
.error { color: var(--bad); font-weight: 600; }
.muted { color: var(--muted); }
ul.sites { list-style: none; padding: 0; } ul.sites li { padding: .6rem 0; border-bottom: 1px solid var(--line); }
`;

export const CSS_ETAG = `"${createHash('sha256').update(CSS).digest('base64url').slice(0, 22)}"`;
