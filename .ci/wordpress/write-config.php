<?php
/**
 * Writes Debian's per-host WordPress config for the local test site (called by
 * .ci/wordpress-setup.sh, which exports the settings as environment variables).
 *
 * The keys and salts are generated once into a separate file and kept on later runs, so that
 * re-running the setup does not log everybody out.
 */

function therapy_ci_env( string $name, string $default = '' ): string {
	$value = getenv( $name );
	return ( false === $value || '' === $value ) ? $default : $value;
}

$config_file = therapy_ci_env( 'WP_CONFIG_FILE', '/etc/wordpress/config-127.0.0.1.php' );
$salts_file  = therapy_ci_env( 'WP_SALTS_FILE', '/etc/wordpress/therapy-sidecar-salts.php' );

if ( ! is_file( $salts_file ) ) {
	$salts = "<?php\n// Generated once by the Therapy Pay Sidecar test setup.\n";
	foreach ( array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' ) as $key ) {
		$salts .= sprintf( "define( %s, %s );\n", var_export( $key, true ), var_export( bin2hex( random_bytes( 32 ) ), true ) );
	}
	if ( false === file_put_contents( $salts_file, $salts ) ) {
		fwrite( STDERR, "cannot write $salts_file\n" );
		exit( 1 );
	}
	chmod( $salts_file, 0640 );
	@chgrp( $salts_file, 'www-data' );
}

$base_url = therapy_ci_env( 'WP_BASE_URL', 'http://127.0.0.1:8080' );
$defines  = array(
	'DB_NAME'                       => therapy_ci_env( 'WP_DB_NAME', 'wordpress' ),
	'DB_USER'                       => therapy_ci_env( 'WP_DB_USER', 'therapy_wp' ),
	'DB_PASSWORD'                   => therapy_ci_env( 'WP_DB_PASSWORD' ),
	'DB_HOST'                       => 'localhost',
	'DB_CHARSET'                    => 'utf8mb4',
	'DB_COLLATE'                    => '',
	'WP_HOME'                       => $base_url,
	'WP_SITEURL'                    => $base_url,
	'WP_CONTENT_DIR'                => therapy_ci_env( 'WP_CONTENT_DIR', '/var/lib/wordpress/wp-content' ),
	'WP_ENVIRONMENT_TYPE'           => 'local',
	'DISABLE_WP_CRON'               => true,
	'AUTOMATIC_UPDATER_DISABLED'    => true,
	'WP_HTTP_BLOCK_EXTERNAL'        => true,
	'WP_DEBUG'                      => true,
	'WP_DEBUG_DISPLAY'              => false,
	'WP_DEBUG_LOG'                  => therapy_ci_env( 'WP_DEBUG_LOG_FILE', '/tmp/therapy-wp/wp-debug.log' ),
	'THERAPY_SIDECAR_SHARED_SECRET' => therapy_ci_env( 'SIDECAR_SHARED_SECRET', 'therapy-sidecar-test-secret-not-for-production' ),
);
$sidecar_url = therapy_ci_env( 'SIDECAR_URL' );
if ( '' !== $sidecar_url ) {
	$defines['THERAPY_SIDECAR_URL'] = $sidecar_url;
}

$php  = "<?php\n";
$php .= "// Written by .ci/wordpress-setup.sh for the Therapy Pay Sidecar tests. Local test site only.\n";
foreach ( $defines as $name => $value ) {
	$php .= sprintf( "define( %s, %s );\n", var_export( $name, true ), var_export( $value, true ) );
}
$php .= sprintf( "\$table_prefix = %s;\n", var_export( therapy_ci_env( 'WP_TABLE_PREFIX', 'wp_' ), true ) );
$php .= sprintf( "require_once %s;\n", var_export( $salts_file, true ) );

$tmp = $config_file . '.tmp';
if ( false === file_put_contents( $tmp, $php ) || ! chmod( $tmp, 0640 ) ) {
	fwrite( STDERR, "cannot write $tmp\n" );
	exit( 1 );
}
@chgrp( $tmp, 'www-data' ); // Apache/PHP-FPM setups run as www-data; php -S runs as root.
if ( ! rename( $tmp, $config_file ) ) {
	fwrite( STDERR, "cannot write $config_file\n" );
	exit( 1 );
}
