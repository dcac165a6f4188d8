-- The sidecar's store (MariaDB 10.6+ / MySQL 8.0.1+: needs SKIP LOCKED). Times are unix seconds.
CREATE TABLE intents (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
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
  updated_at DOUBLE NOT NULL,
  UNIQUE KEY uq_intents_ref (ref),
  UNIQUE KEY uq_intents_tran_ref (tran_ref),
  UNIQUE KEY uq_intents_idempotency (idempotency_key),
  KEY ix_intents_group_state (group_id, state),
  KEY ix_intents_state_updated (state, updated_at),
  KEY ix_intents_state_hold (state, hold_expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE group_locks (
  group_id BIGINT NOT NULL PRIMARY KEY
) ENGINE=InnoDB;

CREATE TABLE notifications (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  intent_id BIGINT NULL,
  channel VARCHAR(16) NOT NULL,
  tran_ref VARCHAR(64) NULL,
  cart_id VARCHAR(64) NULL,
  signature_ok TINYINT NOT NULL,
  outcome VARCHAR(32) NOT NULL,
  body MEDIUMTEXT NULL,
  headers TEXT NULL,
  received_at DOUBLE NOT NULL,
  KEY ix_notifications_intent (intent_id),
  KEY ix_notifications_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE jobs (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
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
  updated_at DOUBLE NOT NULL,
  UNIQUE KEY uq_jobs_intent_kind (intent_id, kind),
  KEY ix_jobs_due (state, run_after),
  KEY ix_jobs_lease (state, lease_until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE job_attempts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  job_id BIGINT NOT NULL,
  intent_id BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  attempt INT NOT NULL,
  started_at DOUBLE NOT NULL,
  finished_at DOUBLE NULL,
  outcome VARCHAR(32) NULL,
  error TEXT NULL,
  KEY ix_job_attempts_intent (intent_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE transitions (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  intent_id BIGINT NOT NULL,
  from_state VARCHAR(32) NULL,
  to_state VARCHAR(32) NOT NULL,
  event VARCHAR(40) NOT NULL,
  source VARCHAR(32) NOT NULL,
  detail TEXT NULL,
  at DOUBLE NOT NULL,
  KEY ix_transitions_intent (intent_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE worker_marks (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  at DOUBLE NOT NULL
) ENGINE=InnoDB;
