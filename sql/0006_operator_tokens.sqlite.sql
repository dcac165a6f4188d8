-- The operator API's used token ids: a token is refused when its jti is here already (a replay).
-- A row is kept until its token's expiry; the retention sweep deletes the expired ones.
CREATE TABLE operator_tokens (
  jti VARCHAR(64) NOT NULL PRIMARY KEY,
  actor VARCHAR(64) NOT NULL,
  expires_at DOUBLE NOT NULL,
  used_at DOUBLE NOT NULL);
CREATE INDEX ix_operator_tokens_expires ON operator_tokens (expires_at);
