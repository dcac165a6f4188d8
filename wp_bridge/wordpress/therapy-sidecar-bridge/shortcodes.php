<?php
/**
 * Shortcodes:
 *
 *   [therapy_sidecar_form group="ID"]  the registration form; POSTs to {THERAPY_SIDECAR_URL}/therapy/checkout.
 *                                      Without group="", the page's ?group_id= is used.
 *   [therapy_sidecar_status]           the "you are being registered" page (?intent=REF[&code=...]);
 *                                      polls {THERAPY_SIDECAR_URL}/therapy/status/REF every 1.5 s.
 */

namespace TherapySidecar;

// What the two shortcodes share: the sidecar's URL, no-cache headers, query keys, notices and the
// group's places. The form is in form.php, the status page in status.php (its script in
// status-script.php).

defined( 'ABSPATH' ) || exit;

/**
 * The sidecar's public base URL, without a trailing slash.
 */
function sidecar_url(): string {
	$url = defined( 'THERAPY_SIDECAR_URL' ) ? (string) constant( 'THERAPY_SIDECAR_URL' ) : home_url( '/sidecar' );
	return untrailingslashit( (string) apply_filters( 'therapy_sidecar_url', $url ) );
}

/**
 * Pages that carry per-visitor tokens must not be cached by page caches or the browser.
 */
function mark_page_uncacheable(): void {
	if ( ! defined( 'DONOTCACHEPAGE' ) ) {
		define( 'DONOTCACHEPAGE', true ); // Honoured by the common page-cache plugins.
	}
	if ( ! headers_sent() ) {
		nocache_headers();
	}
}

/**
 * template_redirect: send no-cache headers early for pages that contain our shortcodes.
 */
function nocache_for_shortcode_pages(): void {
	if ( ! is_singular() ) {
		return;
	}
	$post = get_post();
	if ( $post && ( has_shortcode( $post->post_content, 'therapy_sidecar_form' ) || has_shortcode( $post->post_content, 'therapy_sidecar_status' ) ) ) {
		mark_page_uncacheable();
	}
}

/**
 * A query-string value as a short, safe key ('' when absent).
 *
 * Read from the raw query string, not $_GET: WordPress treats "error" as one of its own query vars
 * and removes $_GET['error'] while parsing the request, but the sidecar sends ?error=CODE&field=F.
 */
function query_key( string $name ): string {
	$query = isset( $_SERVER['QUERY_STRING'] ) && is_string( $_SERVER['QUERY_STRING'] ) ? $_SERVER['QUERY_STRING'] : '';
	$args  = array();
	parse_str( $query, $args );
	$value = isset( $args[ $name ] ) && is_string( $args[ $name ] ) ? $args[ $name ] : '';
	return substr( (string) preg_replace( '/[^A-Za-z0-9_-]/', '', $value ), 0, 64 );
}

/**
 * The plugin's markup in its wrapper, which says the language's direction (dir="rtl" in Arabic).
 */
function wrap_markup( string $html, string $css_class = 'therapy-sidecar', string $id = '' ): string {
	$id_attr = '' !== $id ? ' id="' . esc_attr( $id ) . '"' : '';
	return '<div class="' . esc_attr( $css_class ) . '"' . $id_attr . dir_attributes() . '>' . $html . '</div>';
}

function notice_html( string $text, string $kind = 'info' ): string {
	return sprintf(
		'<div class="therapy-sidecar-notice therapy-sidecar-notice--%1$s" role="%2$s"><p>%3$s</p></div>',
		esc_attr( $kind ),
		'error' === $kind ? 'alert' : 'status',
		esc_html( $text )
	);
}

/**
 * The group's places as the sidecar counts them (GET {THERAPY_SIDECAR_URL}/therapy/groups/ID/seats:
 * its live holds included), kept 15 s in a transient; null when the sidecar did not answer.
 *
 * @return array{capacity: int, left: int, held_now: int, next_release_at: int}|null
 */
function sidecar_seats( int $group_id ): ?array {
	$key    = 'therapy_sidecar_seats_' . $group_id;
	$cached = get_transient( $key );
	if ( is_array( $cached ) ) {
		return $cached;
	}
	$response = wp_remote_get(
		sidecar_url() . '/therapy/groups/' . $group_id . '/seats',
		array(
			'timeout' => 2,
			'headers' => array( 'Accept' => 'application/json' ),
		)
	);
	if ( is_wp_error( $response ) || 200 !== (int) wp_remote_retrieve_response_code( $response ) ) {
		return null;
	}
	$data = json_decode( (string) wp_remote_retrieve_body( $response ), true );
	if ( ! is_array( $data ) || ! isset( $data['capacity'], $data['left'], $data['held_now'] ) ) {
		return null;
	}
	$release = isset( $data['next_release_at'] ) && is_string( $data['next_release_at'] ) ? strtotime( $data['next_release_at'] ) : false;
	$seats   = array(
		'capacity'        => (int) $data['capacity'],
		'left'            => max( 0, (int) $data['left'] ),
		'held_now'        => max( 0, (int) $data['held_now'] ),
		'next_release_at' => false !== $release ? $release : 0,
	);
	set_transient( $key, $seats, 15 );
	return $seats;
}
