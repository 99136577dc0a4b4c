// Module kinds the Worker bundle has that Node does not (wrangler.toml `rules` and the runtime).
declare module '*.bin' {
  /** A `Data` module: the file's bytes. */
  const data: ArrayBuffer;
  export default data;
}
declare module '*.txt' {
  /** A `Text` module: the file as a string. */
  const text: string;
  export default text;
}
declare module 'cloudflare:workers' {
  // @cloudflare/workers-types declares this module only in its global flavour, which clashes
  // with Node's globals; this is its DurableObject, on the module flavour's types.
  import type { DurableObjectState, Rpc } from '@cloudflare/workers-types/index.ts';
  export abstract class DurableObject<Env = unknown> implements Rpc.DurableObjectBranded {
    [Rpc.__DURABLE_OBJECT_BRAND]: never;
    protected ctx: DurableObjectState;
    protected env: Env;
    constructor(ctx: DurableObjectState, env: Env);
    alarm?(): void | Promise<void>;
  }
}
