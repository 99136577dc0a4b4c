// npm run bench: every benchmark, one after the other (ingestion, import, audit).
await import('./ingest.ts');
await import('./import.ts');
await import('./audit.ts');
