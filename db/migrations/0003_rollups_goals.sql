CREATE TABLE `daily_stats` (
	`site_id` integer NOT NULL,
	`day` integer NOT NULL,
	`dim` integer NOT NULL,
	`value` text,
	`visitors` integer NOT NULL,
	`visits` integer NOT NULL,
	`pageviews` integer NOT NULL,
	`events` integer NOT NULL,
	`bounces` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`visit_pageviews` integer NOT NULL,
	`bytes` integer NOT NULL,
	`load_ms` integer NOT NULL,
	`load_n` integer NOT NULL,
	`engaged_ms` integer NOT NULL,
	`engaged_visits` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `daily_stats_site_dim_day_idx` ON `daily_stats` (`site_id`,`dim`,`day`);--> statement-breakpoint
CREATE TABLE `goals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `goals_site_name_uq` ON `goals` (`site_id`,`name`);--> statement-breakpoint
CREATE TABLE `hourly_stats` (
	`site_id` integer NOT NULL,
	`hour` integer NOT NULL,
	`visitors` integer NOT NULL,
	`visits` integer NOT NULL,
	`pageviews` integer NOT NULL,
	`events` integer NOT NULL,
	`bounces` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`visit_pageviews` integer NOT NULL,
	`bytes` integer NOT NULL,
	`load_ms` integer NOT NULL,
	`load_n` integer NOT NULL,
	`engaged_ms` integer NOT NULL,
	`engaged_visits` integer NOT NULL,
	PRIMARY KEY(`site_id`, `hour`)
);
--> statement-breakpoint
CREATE TABLE `rollup_days` (
	`site_id` integer NOT NULL,
	`day` integer NOT NULL,
	`built_at` integer NOT NULL,
	PRIMARY KEY(`site_id`, `day`)
);
--> statement-breakpoint
CREATE TABLE `rollup_dirty` (
	`site_id` integer NOT NULL,
	`hour` integer NOT NULL,
	`gen` integer NOT NULL,
	PRIMARY KEY(`site_id`, `hour`)
);
--> statement-breakpoint
-- Events stored before rollups existed: mark their hours so the builder rolls them up.
INSERT INTO `rollup_dirty` (`site_id`, `hour`, `gen`) SELECT DISTINCT `site_id`, `ts` / 3600000, 1 FROM `events`;
