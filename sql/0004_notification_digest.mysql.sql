-- A notification whose signature fails keeps only a prefix of its body: the digest and the size
-- of the whole body say what was sent without storing it (junk must not fill the disk).
ALTER TABLE notifications ADD COLUMN body_sha256 CHAR(64) NULL, ADD COLUMN body_length INT NULL;
-- The retention sweep deletes notifications that matched no intent (intent_id NULL) by age; the
-- composite index also serves the lookups by intent that ix_notifications_intent served.
CREATE INDEX ix_notifications_intent_received ON notifications (intent_id, received_at);
DROP INDEX ix_notifications_intent ON notifications;
