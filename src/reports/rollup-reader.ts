// rollups.ts builds the rollups on Node and is typed against better-sqlite3; the readers the
// report planner and funnels call (builtDays, dirtyDays, dailyRows, hourlyRows) use only
// prepare/get/all, which every SqlConnection has. (A Durable Object builds no rollups yet: there
// they find no built day.)
import type Database from 'better-sqlite3';
import type { SqlConnection } from '../store/sql.ts';

export const rollupReader = (c: SqlConnection) => c as Database.Database;
