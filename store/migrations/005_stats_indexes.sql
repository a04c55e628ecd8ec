-- Indexes for the statistics (store/stats.go), measured with
-- report.BenchmarkCollect over 100,000 runs and 1,000,000 steps.
--
-- The runs' time and flow indexes become covering for the statistics
-- (status, dry run and end alongside): counting runs per day or status and
-- their durations reads the index, not the rows. They replace runs_start
-- and runs_flow_start, whose columns they begin with. A run's row is
-- written twice (start, end), so they cost the recorder nothing it
-- notices.
--
-- The steps get no index: any secondary index on steps makes each step the
-- recorder writes (a running row, then its replacement) several times
-- dearer (store.BenchmarkRecorderStatsIndexes: 85-93 k steps/s without,
-- 18-54 k with one), while the statistics over a million steps read them
-- in one pass in key order.
DROP INDEX IF EXISTS runs_start;
DROP INDEX IF EXISTS runs_flow_start;
CREATE INDEX runs_start_stats ON runs(start, dry_run, flow, status, end);
CREATE INDEX runs_flow_stats ON runs(flow, start, dry_run, status, end);
