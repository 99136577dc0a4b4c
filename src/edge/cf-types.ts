// The Workers runtime types Hush's edge code uses, from @cloudflare/workers-types' module
// flavour: imported by name rather than declared globally, so they do not clash with Node's
// globals in the one tsconfig that checks both hosts.
export type {
  DurableObjectState, DurableObjectStorage, DurableObjectNamespace, DurableObjectStub, SqlStorage, SqlStorageValue,
  ExecutionContext, DurableObjectJurisdiction,
} from '@cloudflare/workers-types/index.ts';
