<?php
/**
 * The plugin's own tables, created without an activation hook (mu-plugins have none):
 * on `init` and on first use, dbDelta runs once per schema version (option therapy_sidecar_schema_version).
 *
 * Upgrades: dbDelta adds the columns and keys a CREATE TABLE below has and the table lacks, so raising
 * SCHEMA_VERSION is the whole upgrade path. 2: the bookings' payment (amount, currency, tran_ref,
 * paid_at, calendar_url) and a user_id key, for the receipt.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

const SCHEMA_VERSION = '2';
const SCHEMA_OPTION  = 'therapy_sidecar_schema_version';

/**
 * Full table name, e.g. wp_therapy_sidecar_bookings.
 *
 * @param string $name bookings | login_grants | emails.
 */
function table( string $name ): string {
	global $wpdb;
	return $wpdb->prefix . 'therapy_sidecar_' . $name;
}

/**
 * Creates or upgrades the tables when the stored schema version differs. Cheap when up to date
 * (one autoloaded option read). Returns false if the tables could not be created.
 */
function ensure_schema(): bool {
	static $done = false;
	if ( $done ) {
		return true;
	}
	if ( SCHEMA_VERSION === get_option( SCHEMA_OPTION ) ) {
		$done = true;
		return true;
	}

	global $wpdb;
	require_once ABSPATH . 'wp-admin/includes/upgrade.php';
	$charset_collate = $wpdb->get_charset_collate();
	$bookings        = table( 'bookings' );
	$grants          = table( 'login_grants' );
	$emails          = table( 'emails' );

	// dbDelta's format: one column per line, two spaces after PRIMARY KEY, KEY not INDEX.
	dbDelta(
		array(
			"CREATE TABLE {$bookings} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  intent_ref varchar(100) NOT NULL,
  group_id bigint(20) unsigned NOT NULL,
  user_id bigint(20) unsigned NOT NULL,
  created_at datetime NOT NULL,
  amount varchar(32) NOT NULL DEFAULT '',
  currency varchar(3) NOT NULL DEFAULT '',
  tran_ref varchar(64) NOT NULL DEFAULT '',
  paid_at datetime NULL DEFAULT NULL,
  calendar_url varchar(500) NOT NULL DEFAULT '',
  PRIMARY KEY  (id),
  UNIQUE KEY intent_ref (intent_ref),
  KEY group_id (group_id),
  KEY user_id (user_id)
) {$charset_collate};",
			"CREATE TABLE {$grants} (
  jti varchar(64) NOT NULL,
  user_id bigint(20) unsigned NOT NULL,
  used_at datetime NOT NULL,
  PRIMARY KEY  (jti)
) {$charset_collate};",
			"CREATE TABLE {$emails} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  template varchar(32) NOT NULL,
  intent_ref varchar(100) NOT NULL,
  user_id bigint(20) unsigned NOT NULL DEFAULT 0,
  recipient varchar(200) NOT NULL DEFAULT '',
  sent_at datetime NOT NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY template_intent (template,intent_ref)
) {$charset_collate};",
		)
	);

	foreach ( array( $bookings, $grants, $emails ) as $name ) {
		if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $name ) ) ) !== $name ) {
			return false;
		}
	}
	// The newest column: an upgrade that could not add it must not be recorded as done.
	if ( null === $wpdb->get_row( $wpdb->prepare( 'SHOW COLUMNS FROM ' . $bookings . ' LIKE %s', 'calendar_url' ) ) ) { // Only the table name is concatenated (from table()).
		return false;
	}
	update_option( SCHEMA_OPTION, SCHEMA_VERSION, true );
	$done = true;
	return true;
}

/**
 * WP_Error for REST callbacks when the tables are missing.
 */
function schema_error(): \WP_Error {
	return new \WP_Error(
		'therapy_sidecar_db_error',
		'The therapy sidecar tables could not be created.',
		array( 'status' => 500 )
	);
}

/**
 * Current time for the datetime columns (UTC, MySQL format).
 */
function db_now(): string {
	return gmdate( 'Y-m-d H:i:s' );
}

/**
 * A UTC datetime column as ISO 8601 ("2024-05-01T10:00:00+00:00").
 */
function db_time_to_iso( ?string $value ): ?string {
	if ( null === $value || '' === $value ) {
		return null;
	}
	$ts = strtotime( $value . ' UTC' );
	return false === $ts ? null : gmdate( 'c', $ts );
}
