-- Variable rows hold only what changed since the previous row (full = 0),
-- with a full snapshot (full = 1) every so often; gone lists the variables
-- removed (JSON array) or is NULL. Rows written before this migration are
-- full snapshots.
ALTER TABLE vars ADD COLUMN full INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vars ADD COLUMN gone TEXT;
