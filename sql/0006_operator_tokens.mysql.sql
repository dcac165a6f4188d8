-- The operator API's used token ids: a token is refused when its jti is here already (a replay).
-- A row is kept until its token's expiry; the retention sweep deletes the expired ones.
CREATE TABLE operator_tokens (
  jti VARCHAR(64) NOT NULL PRIMARY KEY,
  actor VARCHAR(64) NOT NULL,
  expires_at DOUBLE NOT NULL,
  used_at DOUBLE NOT NULL,
  KEY ix_operator_tokens_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- A transition's source may now name the WordPress user who acted ("wp:" + a user_login of up to
-- 60 characters).
ALTER TABLE transitions MODIFY source VARCHAR(64) NOT NULL;
