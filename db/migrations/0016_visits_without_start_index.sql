-- Visits lose their (site_id, start_ts) index: reports reach a visit by id from its events (clustered
-- by site and time), and retention and the string sweep find a site's visits without it. The index
-- was 5.1 of 78.4 bytes per event on the 10M-event bench.
DROP INDEX `visits_site_start_idx`;
