CREATE TABLE `import_state` (
	`site_id` integer PRIMARY KEY NOT NULL,
	`last_ts` integer NOT NULL,
	`boundary` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
