-- A step's inputs: the values its fields had when the activity evaluated
-- them, as a JSON object by field name (large values as previews with
-- their size and hash, like outputs), or NULL. Steps recorded before this
-- migration have none.
ALTER TABLE steps ADD COLUMN inputs TEXT;
