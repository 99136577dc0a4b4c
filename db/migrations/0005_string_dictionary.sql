-- Text values move into a per-site dictionary (strings); events and visits refer to them by id.
-- Tables are rebuilt with their data (SQLite cannot add NOT NULL columns without a default).
CREATE TABLE `strings` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `strings_site_value_uq` ON `strings` (`site_id`,`value`);
--> statement-breakpoint
INSERT INTO `strings` (`site_id`, `value`) SELECT DISTINCT site_id, x FROM (
  SELECT site_id, name AS x FROM events
  UNION SELECT site_id, hostname FROM events
  UNION SELECT site_id, pathname FROM events
  UNION SELECT site_id, entry_page FROM visits
  UNION SELECT site_id, exit_page FROM visits
  UNION SELECT site_id, hostname FROM visits
  UNION SELECT site_id, referrer_host || coalesce(referrer_path, '') FROM visits
  UNION SELECT site_id, source FROM visits
  UNION SELECT site_id, channel FROM visits
  UNION SELECT site_id, utm_source FROM visits
  UNION SELECT site_id, utm_medium FROM visits
  UNION SELECT site_id, utm_campaign FROM visits
  UNION SELECT site_id, utm_content FROM visits
  UNION SELECT site_id, utm_term FROM visits
  UNION SELECT site_id, country FROM visits
  UNION SELECT site_id, browser FROM visits
  UNION SELECT site_id, browser_version FROM visits
  UNION SELECT site_id, os FROM visits
  UNION SELECT site_id, os_version FROM visits
  UNION SELECT site_id, device FROM visits
  UNION SELECT site_id, language FROM visits
  UNION SELECT site_id, screen FROM visits
) WHERE x IS NOT NULL ORDER BY site_id, x;
--> statement-breakpoint
CREATE TABLE `__new_events` (
	`id` integer PRIMARY KEY NOT NULL,
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
	`from_log` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_events` (id, site_id, ts, visit_id, name_id, host_id, page_id, bytes, status, load_ms, engagement_ms, props, revenue_amount, revenue_currency, interactive, from_log)
  SELECT e.id, e.site_id, e.ts, e.visit_id, (SELECT id FROM strings s WHERE s.site_id = e.site_id AND s.value = e.name), (SELECT id FROM strings s WHERE s.site_id = e.site_id AND s.value = e.hostname), (SELECT id FROM strings s WHERE s.site_id = e.site_id AND s.value = e.pathname),
    e.bytes, e.status, e.load_ms, e.engagement_ms, e.props, e.revenue_amount, e.revenue_currency, e.interactive, e.source_type = 'log' FROM events e;
--> statement-breakpoint
DROP TABLE `events`;
--> statement-breakpoint
ALTER TABLE `__new_events` RENAME TO `events`;
--> statement-breakpoint
CREATE INDEX `events_site_ts_idx` ON `events` (`site_id`,`ts`);
--> statement-breakpoint
CREATE TABLE `__new_visits` (
	`id` integer PRIMARY KEY NOT NULL,
	`site_id` integer NOT NULL,
	`visitor_id` integer NOT NULL,
	`start_ts` integer NOT NULL,
	`end_ts` integer NOT NULL,
	`entry_page_id` integer NOT NULL,
	`exit_page_id` integer NOT NULL,
	`host_id` integer NOT NULL,
	`pageviews` integer NOT NULL,
	`events` integer NOT NULL,
	`bounce` integer NOT NULL,
	`engagement_ms` integer NOT NULL,
	`referrer_id` integer,
	`source_id` integer,
	`channel_id` integer NOT NULL,
	`utm_source_id` integer,
	`utm_medium_id` integer,
	`utm_campaign_id` integer,
	`utm_content_id` integer,
	`utm_term_id` integer,
	`country_id` integer,
	`browser_id` integer,
	`browser_version_id` integer,
	`os_id` integer,
	`os_version_id` integer,
	`device_id` integer NOT NULL,
	`language_id` integer,
	`screen_id` integer
);
--> statement-breakpoint
INSERT INTO `__new_visits` (id, site_id, visitor_id, start_ts, end_ts, entry_page_id, exit_page_id, host_id, pageviews, events, bounce, engagement_ms, referrer_id, source_id, channel_id, utm_source_id, utm_medium_id, utm_campaign_id, utm_content_id, utm_term_id, country_id, browser_id, browser_version_id, os_id, os_version_id, device_id, language_id, screen_id)
  SELECT v.id, v.site_id, v.visitor_id, v.start_ts, v.end_ts, (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.entry_page), (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.exit_page), (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.hostname),
    v.pageviews, v.events, v.bounce, v.engagement_ms,
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.referrer_host || coalesce(v.referrer_path, '')),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.source),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.channel),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.utm_source),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.utm_medium),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.utm_campaign),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.utm_content),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.utm_term),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.country),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.browser),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.browser_version),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.os),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.os_version),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.device),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.language),
    (SELECT id FROM strings s WHERE s.site_id = v.site_id AND s.value = v.screen) FROM visits v;
--> statement-breakpoint
DROP TABLE `visits`;
--> statement-breakpoint
ALTER TABLE `__new_visits` RENAME TO `visits`;
--> statement-breakpoint
CREATE INDEX `visits_site_start_idx` ON `visits` (`site_id`,`start_ts`);
