ALTER TABLE `events` DROP COLUMN `visitor_id`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `referrer_host`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `referrer_path`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `source`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `channel`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `utm_source`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `utm_medium`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `utm_campaign`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `utm_content`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `utm_term`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `country`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `browser`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `browser_version`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `os`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `os_version`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `device`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `language`;--> statement-breakpoint
ALTER TABLE `events` DROP COLUMN `screen`;