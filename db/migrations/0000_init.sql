CREATE TABLE `api_keys` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`key_hash` text NOT NULL,
	`key_prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_uq` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `daily_keys` (
	`day` text PRIMARY KEY NOT NULL,
	`key` blob NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY NOT NULL,
	`site_id` integer NOT NULL,
	`ts` integer NOT NULL,
	`visit_id` integer NOT NULL,
	`visitor_id` integer NOT NULL,
	`name` text NOT NULL,
	`hostname` text NOT NULL,
	`pathname` text NOT NULL,
	`referrer_host` text,
	`referrer_path` text,
	`source` text,
	`channel` text NOT NULL,
	`utm_source` text,
	`utm_medium` text,
	`utm_campaign` text,
	`utm_content` text,
	`utm_term` text,
	`country` text,
	`browser` text,
	`browser_version` text,
	`os` text,
	`os_version` text,
	`device` text NOT NULL,
	`language` text,
	`screen` text,
	`bytes` integer,
	`status` integer,
	`load_ms` integer,
	`engagement_ms` integer,
	`props` text,
	`revenue_amount` real,
	`revenue_currency` text,
	`interactive` integer DEFAULT 1 NOT NULL,
	`source_type` text DEFAULT 'script' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_site_ts_idx` ON `events` (`site_id`,`ts`);--> statement-breakpoint
CREATE TABLE `sites` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain` text NOT NULL,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`min_visitors` integer DEFAULT 3 NOT NULL,
	`retention_days` integer DEFAULT 760 NOT NULL,
	`exclude_paths` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sites_domain_uq` ON `sites` (`domain`);--> statement-breakpoint
CREATE TABLE `visits` (
	`id` integer PRIMARY KEY NOT NULL,
	`site_id` integer NOT NULL,
	`visitor_id` integer NOT NULL,
	`start_ts` integer NOT NULL,
	`end_ts` integer NOT NULL,
	`entry_page` text NOT NULL,
	`exit_page` text NOT NULL,
	`hostname` text NOT NULL,
	`pageviews` integer NOT NULL,
	`events` integer NOT NULL,
	`bounce` integer NOT NULL,
	`engagement_ms` integer NOT NULL,
	`referrer_host` text,
	`referrer_path` text,
	`source` text,
	`channel` text NOT NULL,
	`utm_source` text,
	`utm_medium` text,
	`utm_campaign` text,
	`utm_content` text,
	`utm_term` text,
	`country` text,
	`browser` text,
	`browser_version` text,
	`os` text,
	`os_version` text,
	`device` text NOT NULL,
	`language` text,
	`screen` text
);
--> statement-breakpoint
CREATE INDEX `visits_site_start_idx` ON `visits` (`site_id`,`start_ts`);