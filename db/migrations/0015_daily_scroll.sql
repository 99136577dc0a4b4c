ALTER TABLE `daily_stats` ADD `scroll_sum` integer;--> statement-breakpoint
ALTER TABLE `daily_stats` ADD `scroll_n` integer;--> statement-breakpoint
-- Page rows built before this migration: no events carried a scroll depth before 0014 on most
-- days, so their sums are 0; the hours whose events do carry one are marked for a rebuild, which
-- writes the real sums (until then those days read 0, as any built day reads its last build).
UPDATE `daily_stats` SET `scroll_sum` = 0, `scroll_n` = 0 WHERE `dim` = 1;--> statement-breakpoint
INSERT INTO `rollup_dirty` (`site_id`, `hour`, `gen`) SELECT DISTINCT `site_id`, `ts` / 3600000, 1 FROM `events`
  WHERE `scroll_depth` IS NOT NULL ON CONFLICT DO UPDATE SET `gen` = `gen` + 1;
