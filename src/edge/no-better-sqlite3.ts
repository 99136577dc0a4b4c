// Stands in for better-sqlite3 in the Worker bundle (wrangler.toml `alias`): drizzle's
// better-sqlite3 driver imports it for a constructor the edge never calls, and a native module
// cannot load in workerd anyway. Anything that does call it fails with this message.
export default class NoBetterSqlite3 {
  constructor() {
    throw new Error('better-sqlite3 is not available at the edge: use DoSqlite over ctx.storage.sql');
  }
}
