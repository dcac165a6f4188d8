<?php
/**
 * Installs and seeds the local test WordPress (called by .ci/wordpress-setup.sh after the config
 * and the mu-plugins are in place). Idempotent.
 *
 *   php .ci/wordpress/install.php OUTPUT_FILE
 *
 * - wp_install() when the site is not installed yet; makes sure the admin exists with the given password;
 * - pretty permalinks (/%postname%/), so that the default page URLs of the bridge plugin resolve;
 * - a fresh application password "therapy-sidecar-ci" for the admin (older ones of that name are revoked);
 * - the retreat's PayTabs options, written as its plugin writes them: the serialized array option
 *   retreat_paytabs_settings and the separate paytabs_profile_id / paytabs_server_key / paytabs_region;
 * - two fake BuddyPress groups and three therapy groups in the option therapy_sidecar_groups (101: 25
 *   seats; 102: one seat, private BP group; 103: closed); their bookings and group memberships are
 *   emptied on every run;
 * - the registration, registration-status and thank-you pages;
 * - the table of the test mailbox.
 *
 * Writes KEY=VALUE lines (WP_API_USER, WP_API_APP_PASSWORD, group ids, page URLs) to OUTPUT_FILE.
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
if ( empty( $argv[1] ) ) {
	fwrite( STDERR, "usage: php install.php OUTPUT_FILE\n" );
	exit( 2 );
}
$therapy_ci_out = $argv[1];

function therapy_ci_env( string $name, string $default = '' ): string {
	$value = getenv( $name );
	return ( false === $value || '' === $value ) ? $default : $value;
}

function therapy_ci_fail( string $message ): void {
	fwrite( STDERR, "install.php: $message\n" );
	exit( 1 );
}

$therapy_ci_port = therapy_ci_env( 'WP_PORT', '8080' );
$therapy_ci_host = therapy_ci_env( 'WP_HOST', '127.0.0.1' );

// Debian's wp-config.php picks /etc/wordpress/config-<host>.php from HTTP_HOST.
$_SERVER['HTTP_HOST']      = $therapy_ci_host . ':' . $therapy_ci_port;
$_SERVER['SERVER_NAME']    = $therapy_ci_host;
$_SERVER['SERVER_PORT']    = $therapy_ci_port;
$_SERVER['REQUEST_URI']    = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['SCRIPT_NAME']    = '/index.php';
$_SERVER['PHP_SELF']       = '/index.php';

define( 'WP_INSTALLING', true ); // No "not installed" redirect; the first run creates the tables.
require therapy_ci_env( 'WP_CODE_DIR', '/usr/share/wordpress' ) . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/user.php';

$admin_login    = therapy_ci_env( 'WP_ADMIN_USER', 'admin' );
$admin_password = therapy_ci_env( 'WP_ADMIN_PASSWORD', 'therapy-admin-test-password' );
$admin_email    = therapy_ci_env( 'WP_ADMIN_EMAIL', 'admin@example.test' );

// --- Test mailbox (before wp_install, which mails the admin) ------------------------------
global $wpdb;
$wpdb->query(
	'CREATE TABLE IF NOT EXISTS ' . $wpdb->prefix . 'therapy_test_mailbox (
		id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
		to_addr varchar(255) NOT NULL,
		subject text NOT NULL,
		message longtext NOT NULL,
		headers text NOT NULL,
		created_at datetime NOT NULL,
		PRIMARY KEY (id)
	) ' . $wpdb->get_charset_collate()
);

// --- WordPress itself ------------------------------------------------------------------------------
if ( ! is_blog_installed() ) {
	$installed = wp_install( 'Therapy Groups (test site)', $admin_login, $admin_email, false, '', wp_slash( $admin_password ) );
	if ( empty( $installed['user_id'] ) ) {
		therapy_ci_fail( 'wp_install() failed' );
	}
	fwrite( STDERR, "install.php: installed WordPress\n" );
}
wp_cache_flush();

$admin = get_user_by( 'login', $admin_login );
if ( ! $admin ) {
	$admin_id = wp_insert_user(
		array(
			'user_login' => $admin_login,
			'user_pass'  => $admin_password,
			'user_email' => $admin_email,
			'role'       => 'administrator',
		)
	);
	if ( is_wp_error( $admin_id ) ) {
		therapy_ci_fail( 'cannot create the admin: ' . $admin_id->get_error_message() );
	}
	$admin = get_user_by( 'id', $admin_id );
} else {
	if ( ! in_array( 'administrator', (array) $admin->roles, true ) ) {
		$admin->set_role( 'administrator' );
	}
	if ( ! wp_check_password( $admin_password, $admin->user_pass, $admin->ID ) ) {
		wp_set_password( $admin_password, $admin->ID );
	}
}
wp_set_current_user( $admin->ID );

update_option( 'blogname', 'Therapy Groups (test site)' );
update_option( 'admin_email', $admin_email );
update_option( 'users_can_register', 0 );
update_option( 'default_role', 'subscriber' );
update_option( 'blog_public', 0 );
if ( '/%postname%/' !== get_option( 'permalink_structure' ) ) {
	global $wp_rewrite;
	$wp_rewrite->set_permalink_structure( '/%postname%/' );
}
delete_option( 'rewrite_rules' ); // Rebuilt on the next front-end request.

// --- Application password for the sidecar -----------------------------------------------------------
$app_name = 'therapy-sidecar-ci';
foreach ( WP_Application_Passwords::get_user_application_passwords( $admin->ID ) as $item ) {
	if ( $item['name'] === $app_name ) {
		WP_Application_Passwords::delete_application_password( $admin->ID, $item['uuid'] );
	}
}
$created = WP_Application_Passwords::create_new_application_password( $admin->ID, array( 'name' => $app_name ) );
if ( is_wp_error( $created ) ) {
	therapy_ci_fail( 'cannot create the application password: ' . $created->get_error_message() );
}
$app_password = $created[0];

// --- The retreat's PayTabs settings (as its plugin stores them) --------------------------------------
$paytabs = array(
	'profile_id' => therapy_ci_env( 'PAYTABS_PROFILE_ID', '87654' ),
	'server_key' => therapy_ci_env( 'PAYTABS_SERVER_KEY', 'SZJNTEST-REALSTACK-FAKE-SERVERKEY' ),
	'region'     => therapy_ci_env( 'PAYTABS_REGION', 'SAU' ),
	'currency'   => therapy_ci_env( 'PAYTABS_CURRENCY', 'SAR' ),
);
update_option( 'retreat_paytabs_settings', $paytabs );
update_option( 'paytabs_profile_id', $paytabs['profile_id'] );
update_option( 'paytabs_server_key', $paytabs['server_key'] );
update_option( 'paytabs_region', $paytabs['region'] );

// --- Bridge tables, fake BuddyPress groups, therapy groups ------------------------------------------
if ( ! function_exists( 'TherapySidecar\\ensure_schema' ) ) {
	therapy_ci_fail( 'the therapy-sidecar-bridge mu-plugin is not loaded' );
}
if ( ! TherapySidecar\ensure_schema() ) {
	therapy_ci_fail( 'the bridge tables could not be created' );
}
if ( ! function_exists( 'TherapySidecar\\FakeBuddyPress\\create_group' ) ) {
	therapy_ci_fail( 'the fake BuddyPress mu-plugin is not loaded' );
}
$bp_main  = TherapySidecar\FakeBuddyPress\create_group( 'Anxiety Support Circle', array( 'creator_id' => $admin->ID, 'slug' => 'anxiety-support-circle' ) );
$bp_small = TherapySidecar\FakeBuddyPress\create_group( 'Grief Circle (one seat)', array( 'creator_id' => $admin->ID, 'slug' => 'grief-circle-one-seat', 'status' => 'private' ) );
TherapySidecar\FakeBuddyPress\reset_group( $bp_main );
TherapySidecar\FakeBuddyPress\reset_group( $bp_small );

/**
 * Creates or updates a published page by slug; returns its id.
 */
function therapy_ci_page( string $slug, string $title, string $content ): int {
	$page = get_page_by_path( $slug, OBJECT, 'page' );
	$data = array(
		'post_type'    => 'page',
		'post_status'  => 'publish',
		'post_name'    => $slug,
		'post_title'   => $title,
		'post_content' => $content,
	);
	if ( $page ) {
		$data['ID'] = $page->ID;
	}
	$id = wp_insert_post( wp_slash( $data ), true );
	if ( is_wp_error( $id ) ) {
		therapy_ci_fail( "cannot save page $slug: " . $id->get_error_message() );
	}
	return (int) $id;
}

$group_main   = 101;
$group_small  = 102;
$group_closed = 103;
$page_main   = therapy_ci_page( 'therapy-registration', 'Register for a therapy group', '[therapy_sidecar_form group="' . $group_main . '"]' );
$page_small  = therapy_ci_page( 'therapy-registration-small', 'Register for the grief circle', '[therapy_sidecar_form group="' . $group_small . '"]' );
$page_status = therapy_ci_page( 'therapy-registration-status', 'Your registration', '[therapy_sidecar_status]' );
$page_thanks = therapy_ci_page( 'thank-you', 'Thank you', 'Thank you! You are now registered. We look forward to seeing you in the group.' . "\n\n[therapy_sidecar_receipt]" );

$home = untrailingslashit( home_url() );
update_option(
	'therapy_sidecar_groups',
	array(
		$group_main  => array(
			'name'             => 'Anxiety Support Circle',
			'price'            => '150.00',
			'currency'         => 'SAR',
			'capacity'         => 25,
			'open'             => true,
			'bp_group_id'      => $bp_main,
			'thank_you_url'    => $home . '/thank-you/',
			// The session (the receipt's date and calendar entry); the small group has none.
			'starts_at'        => '2027-03-14 18:30',
			'timezone'         => 'Asia/Riyadh',
			'duration_minutes' => 90,
			'location'         => 'Olaya Centre, Room 2; Riyadh',
		),
		$group_small => array(
			'name'             => 'Grief Circle (one seat)',
			'price'            => '200.00',
			'currency'         => 'SAR',
			'capacity'         => 1,
			'open'             => true,
			'bp_group_id'      => $bp_small,
			'registration_url' => $home . '/therapy-registration-small/',
			'thank_you_url'    => $home . '/thank-you/?group=small',
		),
		$group_closed => array(
			'name'        => 'Summer Workshop (closed)',
			'price'       => '99.50',
			'currency'    => 'SAR',
			'capacity'    => 10,
			'open'        => false,
			'bp_group_id' => $bp_main,
		),
	)
);
$wpdb->query( $wpdb->prepare( 'DELETE FROM ' . TherapySidecar\table( 'bookings' ) . ' WHERE group_id IN (%d, %d, %d)', $group_main, $group_small, $group_closed ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared

// --- Results ------------------------------------------------------------------------------------------
$lines = array(
	'WP_API_USER'                 => $admin->user_login,
	'WP_API_APP_PASSWORD'         => $app_password,
	'WP_ADMIN_USER_ID'            => (string) $admin->ID,
	'THERAPY_GROUP_ID'            => (string) $group_main,
	'THERAPY_BP_GROUP_ID'         => (string) $bp_main,
	'THERAPY_SMALL_GROUP_ID'      => (string) $group_small,
	'THERAPY_SMALL_BP_GROUP_ID'   => (string) $bp_small,
	'THERAPY_CLOSED_GROUP_ID'     => (string) $group_closed,
	'THERAPY_REGISTRATION_URL'    => $home . '/therapy-registration/',
	'THERAPY_STATUS_URL'          => $home . '/therapy-registration-status/',
	'THERAPY_THANK_YOU_URL'       => $home . '/thank-you/',
	'THERAPY_REGISTRATION_PAGE_ID' => (string) $page_main,
	'THERAPY_STATUS_PAGE_ID'      => (string) $page_status,
	'WP_MAILBOX_TABLE'            => $wpdb->prefix . 'therapy_test_mailbox',
);
$text = '';
foreach ( $lines as $key => $value ) {
	if ( ! preg_match( '/^[A-Za-z0-9_.\/:@%+=,?-]*$/', $value ) ) {
		therapy_ci_fail( "unexpected characters in $key" );
	}
	$text .= $key . '=' . $value . "\n";
}
if ( false === file_put_contents( $therapy_ci_out, $text ) ) {
	therapy_ci_fail( "cannot write $therapy_ci_out" );
}
