// The edge's settings (src/edge/edge-config.ts): Node's defaults and checks for the shared ones,
// and HUSH_JURISDICTION choosing the Durable Objects' jurisdiction. Local workerd refuses every
// jurisdiction ("Jurisdiction restrictions are not implemented in workerd"), so the choice is
// checked here on the call the Worker makes (the namespace's own jurisdiction(), recorded), and the
// runtime's side is Cloudflare's (README, "Running at the edge").
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { edgeSettings, inJurisdiction } from '../src/edge/edge-config.ts';
import { ConfigError } from '../src/config.ts';
import type { DurableObjectNamespace } from '../src/edge/cf-types.ts';

const test = suite('edge settings');

/** A namespace that records which jurisdiction it was asked for (the runtime's object stands here). */
function namespace(asked: string[], tag = 'global'): DurableObjectNamespace {
  return { tag, jurisdiction: (j: string) => { asked.push(j); return namespace(asked, j); } } as unknown as DurableObjectNamespace;
}

test('precision and the k floor: Node\'s defaults (default, 3) and Node\'s errors', () => {
  assert.equal(edgeSettings({}), { precision: 'default', kFloor: 3 });
  assert.equal(edgeSettings({ HUSH_IP_PRECISION: 'strict', HUSH_MIN_K_FLOOR: '5' }), { precision: 'strict', kFloor: 5 });
  assert.throws(() => edgeSettings({ HUSH_MIN_K_FLOOR: '0' }), (e: Error) => e instanceof ConfigError && /HUSH_MIN_K_FLOOR/.test(e.message));
  assert.throws(() => edgeSettings({ HUSH_JURISDICTION: 'mars' }), (e: Error) => e instanceof ConfigError && /HUSH_JURISDICTION/.test(e.message));
});

test('HUSH_JURISDICTION=eu: objects are named in the EU namespace; unset: the namespace as bound', () => {
  const asked: string[] = [];
  const ns = namespace(asked);
  assert.is(inJurisdiction(ns, {}), ns);
  assert.is(inJurisdiction(ns, { HUSH_JURISDICTION: ' ' }), ns);
  assert.is((inJurisdiction(ns, { HUSH_JURISDICTION: 'EU' }) as unknown as { tag: string }).tag, 'eu');
  assert.equal(asked, ['eu']);
});

test.run();
