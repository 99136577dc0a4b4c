// npm run bench: every benchmark, one after the other (ingestion, then import).
await import('./ingest.ts');
await import('./import.ts');
