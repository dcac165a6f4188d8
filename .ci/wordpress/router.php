<?php
/**
 * Router for PHP's built-in web server serving Debian's WordPress package.
 *
 * Usage: php -S 127.0.0.1:8080 -t /usr/share/wordpress router.php
 *
 * - an existing file under the document root is served by the built-in server (return false);
 * - /wp-content/... is served from WP_CONTENT_DIR's parent (Debian keeps it in /var/lib/wordpress);
 * - everything else goes to WordPress's index.php (pretty permalinks, /wp-json/...).
 *
 * For tests and local development only; never a production server.
 */

$therapy_router_docroot = rtrim( (string) ( $_SERVER['DOCUMENT_ROOT'] ?? '/usr/share/wordpress' ), '/' );
$therapy_router_content = getenv( 'THERAPY_WP_CONTENT_PARENT' ) ?: '/var/lib/wordpress';
$therapy_router_path    = rawurldecode( (string) parse_url( $_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH ) );

if ( str_contains( $therapy_router_path, "\0" ) || str_contains( $therapy_router_path, '..' ) ) {
	http_response_code( 400 );
	return true;
}

if ( str_starts_with( $therapy_router_path, '/wp-content/' ) ) {
	$therapy_router_file = $therapy_router_content . $therapy_router_path;
	if ( is_file( $therapy_router_file ) ) {
		if ( str_ends_with( $therapy_router_file, '.php' ) ) {
			// Plugin entry points such as wp-content/plugins/x/ajax.php: run them in place.
			chdir( dirname( $therapy_router_file ) );
			require $therapy_router_file;
			return true;
		}
		$therapy_router_types = array(
			'css'   => 'text/css',
			'js'    => 'application/javascript',
			'json'  => 'application/json',
			'png'   => 'image/png',
			'jpg'   => 'image/jpeg',
			'jpeg'  => 'image/jpeg',
			'gif'   => 'image/gif',
			'svg'   => 'image/svg+xml',
			'webp'  => 'image/webp',
			'ico'   => 'image/x-icon',
			'woff'  => 'font/woff',
			'woff2' => 'font/woff2',
			'ttf'   => 'font/ttf',
			'txt'   => 'text/plain',
			'html'  => 'text/html',
		);
		$therapy_router_ext = strtolower( pathinfo( $therapy_router_file, PATHINFO_EXTENSION ) );
		header( 'Content-Type: ' . ( $therapy_router_types[ $therapy_router_ext ] ?? 'application/octet-stream' ) );
		header( 'Content-Length: ' . filesize( $therapy_router_file ) );
		readfile( $therapy_router_file );
		return true;
	}
	http_response_code( 404 );
	return true;
}

if ( '/' !== $therapy_router_path && is_file( $therapy_router_docroot . $therapy_router_path ) ) {
	return false; // Let the built-in server serve the file (or run the .php script).
}

if ( is_dir( $therapy_router_docroot . $therapy_router_path ) && is_file( rtrim( $therapy_router_docroot . $therapy_router_path, '/' ) . '/index.php' ) && '/' !== $therapy_router_path ) {
	return false; // e.g. /wp-admin/ -> wp-admin/index.php.
}

$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $therapy_router_docroot . '/index.php';
$_SERVER['PHP_SELF']        = '/index.php';
chdir( $therapy_router_docroot );
require $therapy_router_docroot . '/index.php';
return true;
