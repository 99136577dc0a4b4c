// npm run bench: every benchmark, one after the other (ingestion, the request pipeline alone, live rollups, import, reports, audit, the edge).
await import('./ingest.ts');
await import('./pipeline.ts');
await import('./live-rollups.ts');
await import('./import.ts');
await (await import('./reports.ts')).runReportsBench();
await import('./audit.ts');
await import('./edge.ts');
