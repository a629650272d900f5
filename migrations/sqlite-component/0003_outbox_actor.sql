-- The subject on whose behalf each event was published (the CloudEvents `actor`). Run only
-- on a file whose outbox lacks the column: SQLite has no ADD COLUMN IF NOT EXISTS.
ALTER TABLE _joule_outbox ADD COLUMN actor TEXT;
