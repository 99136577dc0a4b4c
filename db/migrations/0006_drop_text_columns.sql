-- The text columns were replaced when 0005 rebuilt events and visits; this step only records the
-- final schema in drizzle-kit's snapshot.
SELECT 1;
