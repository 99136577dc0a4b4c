import { openDb } from '/work/main/src/store/db.ts';
