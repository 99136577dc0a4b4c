CREATE TABLE `imported_stats` (
	`import_id` integer NOT NULL,
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
CREATE INDEX `imported_stats_site_dim_day_idx` ON `imported_stats` (`site_id`,`dim`,`day`);--> statement-breakpoint
CREATE TABLE `imports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`source` text NOT NULL,
	`from_day` integer NOT NULL,
	`to_day` integer NOT NULL,
	`rows` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
