-- Text generations: one row per text.generate call (issue 5), charted by
-- the insights view (tokens per second, time to first token per model).
-- API keys are never stored.
CREATE TABLE generations (
	id                INTEGER PRIMARY KEY,
	created           INTEGER NOT NULL,           -- unix nanoseconds
	run_id            TEXT NOT NULL DEFAULT '',   -- '' outside a run
	node_id           TEXT NOT NULL DEFAULT '',
	provider          TEXT NOT NULL,              -- as the node gave it: gpt2, api:work
	model             TEXT NOT NULL,              -- the generator's name
	prompt            TEXT NOT NULL,
	output            TEXT NOT NULL,              -- partial when error is set
	params            TEXT NOT NULL DEFAULT '{}', -- JSON: max_tokens, temperature, top_k, top_p, repetition_penalty, seed, stop
	prompt_tokens     INTEGER NOT NULL DEFAULT 0,
	output_tokens     INTEGER NOT NULL DEFAULT 0,
	first_token_ns    INTEGER NOT NULL DEFAULT 0, -- time to first token
	total_ns          INTEGER NOT NULL DEFAULT 0,
	tokens_per_second REAL NOT NULL DEFAULT 0,
	finish_reason     TEXT NOT NULL DEFAULT '',
	error             TEXT NOT NULL DEFAULT ''    -- '' when it succeeded
);
CREATE INDEX generations_run ON generations(run_id);
CREATE INDEX generations_created ON generations(created);
CREATE INDEX generations_model ON generations(model, created);
