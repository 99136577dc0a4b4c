// `hush funnel add|list|remove`: a site's funnels, like `hush goal`.
import { loadConfig } from '../config.ts';
import { openDb } from '../store/db.ts';
import { SiteRepo, normalizeDomain } from '../store/sites.ts';
import { FunnelError, FunnelRepo, MAX_STEPS, stepFromText } from '../store/funnels.ts';
import { UsageError, Failure } from './errors.ts';

export const FUNNEL_HELP = `Usage: hush funnel add --site <domain> --name NAME --step STEP --step STEP [--step STEP …]
       hush funnel list --site <domain>
       hush funnel remove --site <domain> --name NAME

A funnel is 2 to ${MAX_STEPS} steps in order. A step starting with "/" is a page path pattern
(/pricing, /blog/*, /docs/**, as for goals); any other step is a custom event name (Signup).
The dashboard and POST /api/v2/funnel show how many visits reached each step in order.`;

/** Options `funnel` takes (for parseArgs). */
export const FUNNEL_OPTIONS = { site: { type: 'string' }, name: { type: 'string' }, step: { type: 'string', multiple: true } } as const;

export function funnelCommand(sub: string | undefined, values: Record<string, unknown>): void {
  const raw = values.site;
  if (typeof raw !== 'string' || !raw) throw new UsageError(`funnel ${sub ?? ''}: missing --site <domain>`);
  const domain = normalizeDomain(raw);
  if (!domain) throw new UsageError(`funnel ${sub ?? ''}: "${raw}" is not a domain name (e.g. example.com)`);
  if (sub !== 'add' && sub !== 'list' && sub !== 'remove') throw new UsageError(`funnel: unknown subcommand "${sub ?? ''}" (add, list, remove)`);
  const config = loadConfig();
  const store = openDb(config.dbPath, { synchronous: config.synchronous });
  try {
    const site = new SiteRepo(store.db).byDomain(domain);
    if (!site) throw new Failure(`funnel: no site ${domain} (see hush site list)`);
    const funnels = new FunnelRepo(store.db);
    if (sub === 'add') {
      if (typeof values.name !== 'string') throw new UsageError('funnel add: missing --name NAME');
      const steps = Array.isArray(values.step) ? (values.step as string[]) : typeof values.step === 'string' ? [values.step] : [];
      try {
        if (steps.length > MAX_STEPS) throw new FunnelError(`steps: a funnel has 2 to ${MAX_STEPS} steps, got ${steps.length}`);
        const f = funnels.add(site.id, values.name, steps.map((s, i) => stepFromText(s, `--step ${i + 1}`)));
        console.log(`Added funnel "${f.name}" (${f.steps.length} steps) to ${domain}.`);
      } catch (e) {
        if (e instanceof FunnelError) throw new UsageError(`funnel add: ${e.message}`);
        throw e;
      }
    } else if (sub === 'list') {
      const list = funnels.list(site.id);
      if (list.length === 0) console.log(`No funnels for ${domain}: add one with  hush funnel add --site ${domain} --name Signup --step /pricing --step Signup`);
      for (const f of list) console.log(`${f.name}\t${f.steps.map((s) => `${s.kind} ${s.value}`).join(' → ')}`);
    } else {
      if (typeof values.name !== 'string') throw new UsageError('funnel remove: missing --name NAME');
      if (!funnels.remove(site.id, values.name)) throw new Failure(`funnel remove: ${domain} has no funnel "${values.name}"`);
      console.log(`Removed funnel "${values.name}" from ${domain}.`);
    }
  } finally {
    store.close();
  }
}
