-- Indexes for the statistics (store/stats.go), each measured with
-- report.BenchmarkCollect over 100,000 runs and 1,000,000 steps; what the
-- step indexes cost the recorder: store.BenchmarkRecorderStatsIndexes.
--
-- The runs' time and flow indexes become covering for the statistics
-- (status, dry run and end alongside): counting runs per day or status and
-- their durations reads the index, not the rows. They replace runs_start
-- and runs_flow_start, whose columns they begin with.
DROP INDEX IF EXISTS runs_start;
DROP INDEX IF EXISTS runs_flow_start;
CREATE INDEX runs_start_stats ON runs(start, dry_run, flow, status, end);
CREATE INDEX runs_flow_stats ON runs(flow, start, dry_run, status, end);
-- Time per activity type over many runs: the steps in type order with
-- what the sums need, so GROUP BY type needs no sort of a million rows.
CREATE INDEX steps_type_stats ON steps(type, run, status, port, duration);
-- The few steps that did not succeed, for failures by node and failed runs.
CREATE INDEX steps_failed ON steps(run, seq) WHERE status NOT IN ('ok', 'dry', 'running');
