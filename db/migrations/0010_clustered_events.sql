-- Events clustered by (site, time): WITHOUT ROWID, with the primary key as the only index.
CREATE TABLE `sequences` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
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
	`props` text,
	`revenue_amount` real,
	`revenue_currency` text,
	`interactive` integer DEFAULT 1 NOT NULL,
	`from_log` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`site_id`, `ts`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_events`("id", "site_id", "ts", "visit_id", "name_id", "host_id", "page_id", "bytes", "status", "load_ms", "engagement_ms", "props", "revenue_amount", "revenue_currency", "interactive", "from_log") SELECT "id", "site_id", "ts", "visit_id", "name_id", "host_id", "page_id", "bytes", "status", "load_ms", "engagement_ms", "props", "revenue_amount", "revenue_currency", "interactive", "from_log" FROM `events` ORDER BY `id`;--> statement-breakpoint
-- Event and visit ids continue from the highest ones so far.
INSERT INTO `sequences` (`name`, `value`) SELECT 'events', coalesce(max(`id`), 0) FROM `events`;--> statement-breakpoint
INSERT INTO `sequences` (`name`, `value`) SELECT 'visits', coalesce(max(`id`), 0) FROM `visits`;--> statement-breakpoint
DROP TABLE `events`;--> statement-breakpoint
ALTER TABLE `__new_events` RENAME TO `events`;--> statement-breakpoint
PRAGMA foreign_keys=ON;