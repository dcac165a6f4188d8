<?php
/**
 * The plugin's own tables, created without an activation hook (mu-plugins have none):
 * on `init` and on first use, dbDelta runs once per schema version (option therapy_sidecar_schema_version).
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

const SCHEMA_VERSION = '1';
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
  PRIMARY KEY  (id),
  UNIQUE KEY intent_ref (intent_ref),
  KEY group_id (group_id)
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
