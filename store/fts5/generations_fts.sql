-- Full-text search of the generations' prompts and outputs: an
-- external-content FTS5 table (the text stays in generations only) kept in
-- step by triggers. The trigram tokenizer matches any substring of three
-- characters or more, case-insensitively, in every script: Chinese text,
-- which has no spaces between words, is found as well as English.
-- Applied only by a binary built with FTS5 (the sqlite_fts5 build tag);
-- see setupSearch.
DROP TRIGGER IF EXISTS generations_fts_ai;
DROP TRIGGER IF EXISTS generations_fts_ad;
DROP TRIGGER IF EXISTS generations_fts_au;
DROP TABLE IF EXISTS generations_fts;
CREATE VIRTUAL TABLE generations_fts USING fts5(prompt, output, content='generations', content_rowid='id', tokenize='trigram');
CREATE TRIGGER generations_fts_ai AFTER INSERT ON generations BEGIN
	INSERT INTO generations_fts(rowid, prompt, output) VALUES (new.id, new.prompt, new.output);
END;
CREATE TRIGGER generations_fts_ad AFTER DELETE ON generations BEGIN
	INSERT INTO generations_fts(generations_fts, rowid, prompt, output) VALUES ('delete', old.id, old.prompt, old.output);
END;
CREATE TRIGGER generations_fts_au AFTER UPDATE OF prompt, output ON generations BEGIN
	INSERT INTO generations_fts(generations_fts, rowid, prompt, output) VALUES ('delete', old.id, old.prompt, old.output);
	INSERT INTO generations_fts(rowid, prompt, output) VALUES (new.id, new.prompt, new.output);
END;
INSERT INTO generations_fts(generations_fts) VALUES ('rebuild');
