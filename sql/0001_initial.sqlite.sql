-- The sidecar's store on SQLite (one writer: BEGIN IMMEDIATE is the lock). Times are unix seconds.
CREATE TABLE intents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ref VARCHAR(40) NOT NULL,
  state VARCHAR(32) NOT NULL,
  state_reason VARCHAR(64) NULL,
  group_id BIGINT NOT NULL,
  bp_group_id BIGINT NOT NULL,
  group_name VARCHAR(200) NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  email VARCHAR(255) NULL,
  first_name VARCHAR(100) NULL,
  last_name VARCHAR(100) NULL,
  phone VARCHAR(40) NULL,
  street1 VARCHAR(128) NULL,
  city VARCHAR(128) NULL,
  country CHAR(2) NULL,
  client_ip VARCHAR(64) NULL,
  password_enc TEXT NULL,
  wp_user_id BIGINT NULL,
  buyer_logged_in TINYINT NOT NULL DEFAULT 0,
  user_created TINYINT NOT NULL DEFAULT 0,
  booking_id BIGINT NULL,
  member_joined TINYINT NOT NULL DEFAULT 0,
  confirmation_sent TINYINT NOT NULL DEFAULT 0,
  tran_ref VARCHAR(64) NULL,
  redirect_url TEXT NULL,
  idempotency_key VARCHAR(64) NULL,
  browser_secret_hash VARCHAR(400) NOT NULL,
  login_jti CHAR(32) NULL,
  login_exp DOUBLE NULL,
  registration_url VARCHAR(255) NOT NULL,
  status_url VARCHAR(255) NOT NULL,
  thank_you_url VARCHAR(255) NOT NULL,
  hold_expires_at DOUBLE NOT NULL,
  refund_tran_ref VARCHAR(64) NULL,
  refund_status CHAR(1) NULL,
  refund_requested_at DOUBLE NULL,
  paid_at DOUBLE NULL,
  fulfilled_at DOUBLE NULL,
  last_queried_at DOUBLE NULL,
  unfulfilled_alerted TINYINT NOT NULL DEFAULT 0,
  purged_at DOUBLE NULL,
  created_at DOUBLE NOT NULL,
  updated_at DOUBLE NOT NULL);

CREATE TABLE group_locks (
  group_id BIGINT NOT NULL PRIMARY KEY
);

CREATE TABLE notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  intent_id BIGINT NULL,
  channel VARCHAR(16) NOT NULL,
  tran_ref VARCHAR(64) NULL,
  cart_id VARCHAR(64) NULL,
  signature_ok TINYINT NOT NULL,
  outcome VARCHAR(32) NOT NULL,
  body MEDIUMTEXT NULL,
  headers TEXT NULL,
  received_at DOUBLE NOT NULL);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  intent_id BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  state VARCHAR(16) NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  run_after DOUBLE NOT NULL,
  lease_until DOUBLE NULL,
  lease_token CHAR(32) NULL,
  requeue TINYINT NOT NULL DEFAULT 0,
  last_error TEXT NULL,
  created_at DOUBLE NOT NULL,
  updated_at DOUBLE NOT NULL);

CREATE TABLE job_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id BIGINT NOT NULL,
  intent_id BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  attempt INT NOT NULL,
  started_at DOUBLE NOT NULL,
  finished_at DOUBLE NULL,
  outcome VARCHAR(32) NULL,
  error TEXT NULL);

CREATE TABLE transitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  intent_id BIGINT NOT NULL,
  from_state VARCHAR(32) NULL,
  to_state VARCHAR(32) NOT NULL,
  event VARCHAR(40) NOT NULL,
  source VARCHAR(32) NOT NULL,
  detail TEXT NULL,
  at DOUBLE NOT NULL);

CREATE TABLE worker_marks (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  at DOUBLE NOT NULL
);

CREATE UNIQUE INDEX uq_intents_ref ON intents (ref);
CREATE UNIQUE INDEX uq_intents_tran_ref ON intents (tran_ref);
CREATE UNIQUE INDEX uq_intents_idempotency ON intents (idempotency_key);
CREATE INDEX ix_intents_group_state ON intents (group_id, state);
CREATE INDEX ix_intents_state_updated ON intents (state, updated_at);
CREATE INDEX ix_intents_state_hold ON intents (state, hold_expires_at);
CREATE INDEX ix_notifications_intent ON notifications (intent_id);
CREATE INDEX ix_notifications_received ON notifications (received_at);
CREATE UNIQUE INDEX uq_jobs_intent_kind ON jobs (intent_id, kind);
CREATE INDEX ix_jobs_due ON jobs (state, run_after);
CREATE INDEX ix_jobs_lease ON jobs (state, lease_until);
CREATE INDEX ix_job_attempts_intent ON job_attempts (intent_id);
CREATE INDEX ix_transitions_intent ON transitions (intent_id);
