// Funnels in a site's settings: the list with a Remove button each, and a form that adds one —
// a name and 2–8 steps, one a line: a page path pattern (starts with "/", `*` and `**` as for
// goals) or a custom event name. Same checks and messages as `hush funnel add`.
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { FunnelError, MAX_STEPS, stepFromText, type FunnelRepo } from '../store/funnels.ts';
import type { Site } from '../store/sites.ts';

export type { FunnelRepo };

type Csrf = HtmlEscapedString | Promise<HtmlEscapedString>;

export function funnelsCard(repo: FunnelRepo, siteId: number, base: string, csrf: Csrf) {
  const list = repo.list(siteId);
  return html`<section class="card wide"><h2>Funnels</h2>${list.length ? html`<ul class="sites">${list.map((f) => html`<li>${f.name} <span class="muted">${f.steps.map((s) => (s.kind === 'page' ? s.value : `event ${s.value}`)).join(' → ')}</span>
<form class="inline" method="post" action="${base}/funnels/remove">${csrf}<input type="hidden" name="name" value="${f.name}"><button class="link" type="submit">Remove</button></form></li>`)}</ul>` : html`<p class="muted">No funnels yet. The dashboard shows how many visits reach each step in order.</p>`}
<form method="post" action="${base}/funnels">${csrf}<label for="funnel_name">Funnel name</label><input id="funnel_name" name="name" type="text" maxlength="120">
<label for="funnel_steps">Steps, 2 to ${MAX_STEPS}, one a line: a page path pattern (/pricing, /docs/**) or a custom event name (Signup)</label>
<textarea id="funnel_steps" name="steps" rows="5" cols="50"></textarea><button type="submit">Add funnel</button></form></section>`;
}

type OwnerPost<O> = (path: string, handle: (c: Context, o: O, f: Record<string, string>) => Promise<Response> | Response) => void;
type Render<O> = (c: Context, o: O, status: number, message: { error?: string; ok?: string }) => Response | Promise<Response>;

export function funnelRoutes<O extends { site: Site }>(ownerPost: OwnerPost<O>, repo: FunnelRepo, render: Render<O>): void {
  ownerPost('/sites/:domain/funnels', (c, o, f) => {
    try {
      const lines = (f.steps ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
      // More lines than steps are refused by the count check; each line is checked after it.
      if (lines.length > MAX_STEPS) throw new FunnelError(`steps: a funnel has 2 to ${MAX_STEPS} steps, got ${lines.length}`);
      const steps = lines.map((l, i) => stepFromText(l, `step ${i + 1}`));
      const added = repo.add(o.site.id, f.name ?? '', steps);
      return render(c, o, 200, { ok: `Added the funnel "${added.name}".` });
    } catch (e) {
      if (e instanceof FunnelError) return render(c, o, 400, { error: `Not added: ${e.message}.` });
      throw e;
    }
  });

  ownerPost('/sites/:domain/funnels/remove', (c, o, f) => (repo.remove(o.site.id, f.name ?? '')
    ? render(c, o, 200, { ok: `Removed the funnel "${f.name}".` })
    : render(c, o, 404, { error: 'No such funnel.' })));
}
