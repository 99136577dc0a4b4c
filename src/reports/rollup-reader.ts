// rollups.ts builds the rollups on Node and is typed against better-sqlite3; the readers the
// report planner and funnels call (builtDays, dirtyDays, dailyRows, hourlyRows) use only
// prepare/get/all, which every SqlConnection has. A site's Durable Object builds its rollups with
// the same refreshRollups over DoSqlite (src/edge/site-object.ts): the whole-day path, which needs
// only prepare/run/all and transaction.
import type Database from 'better-sqlite3';
import type { SqlConnection } from '../store/sql.ts';

export const rollupReader = (c: SqlConnection) => c as Database.Database;
