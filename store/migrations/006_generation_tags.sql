-- The Generations tab: tags (free words such as "good", "to check",
-- "invoice reply" that classify a text) and an archive flag that hides a
-- text from the list without deleting it.
ALTER TABLE generations ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
CREATE TABLE generation_tags (
	generation INTEGER NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
	tag        TEXT NOT NULL,
	PRIMARY KEY (generation, tag)
) WITHOUT ROWID;
CREATE INDEX generation_tags_tag ON generation_tags(tag, generation);
