-- Flow library: every save of a flow document is a version.
CREATE TABLE flows (
	id      INTEGER PRIMARY KEY,
	name    TEXT NOT NULL UNIQUE,
	path    TEXT NOT NULL DEFAULT '',
	created INTEGER NOT NULL, -- unix nanoseconds
	updated INTEGER NOT NULL
);

CREATE TABLE flow_versions (
	flow    INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	saved   INTEGER NOT NULL,
	path    TEXT NOT NULL DEFAULT '',
	size    INTEGER NOT NULL,
	sha256  BLOB NOT NULL,
	doc     BLOB NOT NULL,
	PRIMARY KEY (flow, version)
) WITHOUT ROWID;

-- Runs. id is the internal key; run_id the sortable public id.
CREATE TABLE runs (
	id           INTEGER PRIMARY KEY,
	run_id       TEXT NOT NULL UNIQUE,
	flow         TEXT NOT NULL,
	flow_version INTEGER NOT NULL DEFAULT 0,
	path         TEXT NOT NULL DEFAULT '',
	start        INTEGER NOT NULL,
	end          INTEGER,          -- NULL while running
	status       TEXT NOT NULL,
	error        TEXT NOT NULL DEFAULT '',
	dry_run      INTEGER NOT NULL DEFAULT 0,
	pid          INTEGER NOT NULL DEFAULT 0,
	proc         TEXT NOT NULL DEFAULT '', -- identifies the process beyond its pid
	steps        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_start ON runs(start);
CREATE INDEX runs_flow_start ON runs(flow, start);
CREATE INDEX runs_status ON runs(status);

-- One row per step attempt; seq is unique within a run.
CREATE TABLE steps (
	run      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	seq      INTEGER NOT NULL,
	node     TEXT NOT NULL,
	type     TEXT NOT NULL,
	label    TEXT NOT NULL DEFAULT '',
	attempt  INTEGER NOT NULL DEFAULT 1,
	start    INTEGER NOT NULL,
	duration INTEGER NOT NULL DEFAULT 0, -- nanoseconds
	status   TEXT NOT NULL,
	port     TEXT NOT NULL DEFAULT '',
	outputs  TEXT,                        -- JSON object or NULL
	error    TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run, seq)
) WITHOUT ROWID;

-- Variables after a step, stored only when they changed.
CREATE TABLE vars (
	run  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	seq  INTEGER NOT NULL,
	vars TEXT NOT NULL, -- JSON object
	PRIMARY KEY (run, seq)
) WITHOUT ROWID;

CREATE TABLE logs (
	id      INTEGER PRIMARY KEY,
	run     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	node    TEXT NOT NULL DEFAULT '',
	level   TEXT NOT NULL,
	message TEXT NOT NULL,
	time    INTEGER NOT NULL
);
CREATE INDEX logs_run ON logs(run, seq);
