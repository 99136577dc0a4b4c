-- Events keep interactive and from_log in one `flags` column (bit 0: not interactive, bit 1: from
-- an access log); both stay readable as virtual columns. Each column costs every row a header byte
-- even when its value (0 or 1) costs none: 1 byte per event (44.3 -> 43.3 on the 10M-event bench).
-- The table stays clustered by (site_id, ts, id) (WITHOUT ROWID, as since 0010). No PRAGMA
-- foreign_keys around the copy (as 0017): no key refers to events, drizzle's migrator runs inside a
-- transaction where it does nothing (and a Durable Object's migrations then run no PRAGMA).
CREATE TABLE `__new_events` (
	`id` integer NOT NULL,
	`site_id` integer NOT NULL,
	`ts` integer NOT NULL,
	`visit_id` integer NOT NULL,
	`name_id` integer NOT NULL,
	`host_id` integer NOT NULL,
	`page_id` integer NOT NULL,
	`bytes` integer,
	`status` integer,
	`load_ms` integer,
	`engagement_ms` integer,
	`scroll_depth` integer,
	`props` text,
	`revenue_amount` real,
	`revenue_currency` text,
	`flags` integer DEFAULT 0 NOT NULL,
	`interactive` integer GENERATED ALWAYS AS (1 - (flags & 1)) VIRTUAL,
	`from_log` integer GENERATED ALWAYS AS ((flags >> 1) & 1) VIRTUAL,
	PRIMARY KEY(`site_id`, `ts`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_events` ("id", "site_id", "ts", "visit_id", "name_id", "host_id", "page_id", "bytes", "status", "load_ms", "engagement_ms",
    "scroll_depth", "props", "revenue_amount", "revenue_currency", "flags")
  SELECT "id", "site_id", "ts", "visit_id", "name_id", "host_id", "page_id", "bytes", "status", "load_ms", "engagement_ms",
    "scroll_depth", "props", "revenue_amount", "revenue_currency", (1 - "interactive") + 2 * "from_log"
  FROM `events` ORDER BY "site_id", "ts", "id";--> statement-breakpoint
DROP TABLE `events`;--> statement-breakpoint
ALTER TABLE `__new_events` RENAME TO `events`;