-- The retention sweep walks only intents whose personal data is still there.
CREATE INDEX ix_intents_purge ON intents (purged_at, updated_at);
