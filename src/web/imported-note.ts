// The dashboard's note on imported data (hush import-plausible): which days of the view include
// Plausible's aggregates, and whether some panels could not use them (src/reports/imported.ts
// decides per query and says so in meta).
import { html } from 'hono/html';
import type { QueryResponse } from '../reports/engine.ts';

const UNSUPPORTED = new Set(['unsupported_query', 'unsupported_metrics', 'unsupported_interval']);

const shown = (d: string) => new Date(`${d}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

export function importedNote(answers: Array<QueryResponse | null | undefined>) {
  const metas = answers.flatMap((a) => (a ? [a.meta] : []));
  const spans = metas.flatMap((m) => (m.imports_included === true ? [m.imported as { from: string; to: string }] : []));
  const left = metas.some((m) => m.imports_included === false && UNSUPPORTED.has(m.imports_skip_reason as string));
  if (!spans.length && !left) return '';
  if (!spans.length) {
    return html`<p class="muted imported-note" data-imported="none">Data imported from Plausible is not included in this view: its daily export cannot answer these filters or this interval.</p>`;
  }
  const from = spans.map((s) => s.from).sort()[0], to = spans.map((s) => s.to).sort().at(-1)!;
  return html`<p class="muted imported-note" data-imported="${from}/${to}">Includes data imported from Plausible for ${shown(from)} – ${shown(to)}.${
    left ? ' Panels that its daily export cannot answer (hours, other filters, some metrics) show only what Hush counted.' : ''}</p>`;
}
