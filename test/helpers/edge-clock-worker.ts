// A Worker entry for tests only: Hush's Worker (src/edge/worker.ts, makeWorker) over a clock
// that a request may set with `X-Hush-Test-Now: <ms>`, so the same hits can be played at the
// edge and into Node at the same made-up times. It is not the deployed entry: wrangler.toml's
// `main` is src/edge/worker.ts, whose default export reads Date.now and no header; this file is
// started only by tests (`npm run edge:dev -- test/helpers/edge-clock-worker.ts`).
import { AsyncLocalStorage } from 'node:async_hooks';
import { makeWorker, type Env } from '../../src/edge/worker.ts';
import type { ExecutionContext } from '../../src/edge/cf-types.ts';

export { SiteStore, Directory } from '../../src/edge/worker.ts';

const at = new AsyncLocalStorage<number>();
const worker = makeWorker(() => at.getStore() ?? Date.now());

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const t = Number(request.headers.get('x-hush-test-now'));
    return Number.isFinite(t) && t > 0 ? at.run(t, () => worker.fetch(request, env, ctx)) : worker.fetch(request, env, ctx);
  },
};
