// The dashboard's stylesheet, served from memory at /assets/hush.css: no external fonts or CDNs,
// light and dark from prefers-color-scheme, readable on a phone.
import { createHash } from 'node:crypto';

export const CSS = `
:root { color-scheme: light dark; --bg: #fbfbfa; --fg: #1d1d1b; --muted: #6b6b66; --line: #e3e3de; --accent: #3554d1; --bad: #b3261e; --card: #fff; --land: #dcdcd6; }
@media (prefers-color-scheme: dark) { :root { --bg: #151514; --fg: #ececea; --muted: #a3a39c; --line: #2e2e2b; --accent: #8ea2ff; --bad: #ff8a80; --card: #1d1d1b; --land: #3a3a36; } }
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
nav.bar-top { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: center; margin-bottom: 1rem; }
nav.bar-top ul.periods { display: flex; flex-wrap: wrap; gap: .25rem .75rem; list-style: none; padding: 0; margin: 0; }
nav.bar-top a[aria-current] { font-weight: 700; text-decoration: none; color: var(--fg); }
form.custom { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; } form.custom label { display: inline; margin: 0; font-weight: 400; }
form.custom input { padding: .3rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); font: inherit; }
form.custom button { margin: 0; padding: .3rem .7rem; }
details.switcher summary { font-weight: 700; font-size: 1.2rem; cursor: pointer; } details.switcher ul { list-style: none; padding: .25rem 0; margin: 0; }
ul.chips { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; padding: 0; }
ul.chips li { border: 1px solid var(--line); border-radius: 999px; padding: .15rem .3rem .15rem .7rem; background: var(--card); }
ul.chips a { text-decoration: none; padding: 0 .4rem; font-weight: 700; }
section.topline { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .75rem; margin: 1rem 0; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; }
.stat .name { display: block; color: var(--muted); font-size: .85rem; } .stat .value { font-size: 1.5rem; font-weight: 700; }
.delta { font-size: .85rem; margin-left: .3rem; } .delta.up { color: #1f8a4c; } .delta.down { color: var(--bad); }
.notice { border-left: 4px solid var(--bad); padding: .5rem .75rem; background: var(--card); }
.chart-box { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; }
svg.chart { width: 100%; height: auto; } svg.chart .grid { stroke: var(--line); } svg.chart .axis { fill: var(--muted); font-size: 12px; }
svg.chart .line { stroke: var(--accent); stroke-width: 2.5; } svg.chart .previous { stroke: var(--muted); stroke-width: 1.5; stroke-dasharray: 4 4; }
svg.chart .dot { fill: var(--accent); }
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem; margin-top: 1rem; }
section.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; min-width: 0; }
section.panel h2 { font-size: 1rem; margin: 0 0 .5rem; }
table { width: 100%; border-collapse: collapse; } th { text-align: left; color: var(--muted); font-weight: 600; font-size: .85rem; }
td, th { padding: .3rem .25rem; } td.num, th.num { text-align: right; white-space: nowrap; }
td.label { position: relative; overflow-wrap: anywhere; } td.label a, td.label span.other { position: relative; }
.bar { position: absolute; left: 0; top: .15rem; bottom: .15rem; border-radius: 4px; background: color-mix(in srgb, var(--accent) 14%, transparent); }
${Array.from({ length: 21 }, (_, i) => `.w${i * 5} { width: ${i * 5}%; }`).join(' ')}
.other { cursor: help; } abbr { text-decoration: none; }
form.card.wide, section.card.wide { max-width: 48rem; margin: 1rem 0; }
form.inline { display: inline; } dl.facts dt { font-weight: 700; margin-top: .6rem; } dl.facts dd { margin: 0; }
pre { white-space: pre-wrap; } .ok { color: #1f8a4c; font-weight: 600; }
pre { overflow-x: auto; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .6rem; }
.totp-setup { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; } .totp-setup > div { flex: 1 1 14rem; min-width: 0; }
figure.qr { margin: 0; } svg.qr { width: 11rem; height: 11rem; display: block; border-radius: 4px; }
.map-box { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; margin-top: 1rem; }
svg.map { display: block; width: 100%; max-width: 60rem; height: auto; margin: 0 auto; }
svg.map path { stroke: var(--card); stroke-width: .5; stroke-linejoin: round; } svg.map .land { fill: var(--land); }
${Array.from({ length: 5 }, (_, i) => `svg.map .s${i + 1} { fill: color-mix(in srgb, var(--accent) ${20 + i * 20}%, var(--land)); }`).join(' ')}
svg.map a:hover path { stroke: var(--fg); stroke-width: 1; }
input[type=number] { width: 8rem; padding: .6rem .7rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); font: inherit; }
`;

export const CSS_ETAG = `"${createHash('sha256').update(CSS).digest('base64url').slice(0, 22)}"`;
