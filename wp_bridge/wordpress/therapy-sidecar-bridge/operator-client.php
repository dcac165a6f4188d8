<?php
/**
 * The client of the sidecar's operator API (docs/contracts.md, "Operator API"): what the payments
 * panel (panel.php) reads and does goes through here.
 *
 *   {sidecar URL}/operator/v1/...   JSON in and out
 *   Authorization: TherapySidecar <token>
 *
 * The token is a signed token (tokens.php) of type "operator", valid for 60 seconds, used once (its
 * "jti"), naming the WordPress user who acts ("actor": "wp:<user_login>") and binding the method, the
 * path and the SHA-256 of the exact body sent.
 *
 * The base URL is the sidecar's URL (shortcodes.php, sidecar_url()) + /operator/v1. A site where
 * WordPress reaches the sidecar at another address than browsers do sets the constant
 * THERAPY_SIDECAR_OPERATOR_URL (e.g. 'http://127.0.0.1:8000/operator/v1') or the filter
 * `therapy_sidecar_operator_url`. On a site whose environment type is "local" only (a development or
 * test site, WP_ENVIRONMENT_TYPE), the option `therapy_sidecar_local_operator_url` may name it too.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/** The operator API's path prefix (what the token's "path" starts with). */
const OPERATOR_PATH = '/operator/v1';

/** Lifetime of an operator token (seconds). */
const OPERATOR_TOKEN_LIFETIME = 60;

/** Seconds to wait for the sidecar. */
const OPERATOR_TIMEOUT = 8;

/** Registration references as the sidecar makes them; anything else is never sent. */
const OPERATOR_REF_PATTERN = '/^[A-Za-z0-9_-]{1,64}$/';

/**
 * The operator API's base URL, without a trailing slash.
 */
function operator_base_url(): string {
	$url = defined( 'THERAPY_SIDECAR_OPERATOR_URL' ) ? (string) constant( 'THERAPY_SIDECAR_OPERATOR_URL' ) : sidecar_url() . OPERATOR_PATH;
	if ( 'local' === wp_get_environment_type() ) {
		$local = (string) get_option( 'therapy_sidecar_local_operator_url', '' );
		if ( '' !== $local ) {
			$url = $local;
		}
	}
	return untrailingslashit( (string) apply_filters( 'therapy_sidecar_operator_url', $url ) );
}

/**
 * Is the reference one the sidecar could have made?
 */
function is_operator_ref( string $ref ): bool {
	return 1 === preg_match( OPERATOR_REF_PATTERN, $ref );
}

/**
 * The Authorization header's token for one request.
 *
 * @param string $method "GET" or "POST".
 * @param string $path   The path only, starting with /operator/v1.
 * @param string $body   The exact raw body sent ('' for GET).
 */
function operator_token( string $method, string $path, string $body ): string {
	$user = wp_get_current_user();
	return sign_token(
		array(
			'typ'         => 'operator',
			'exp'         => time() + OPERATOR_TOKEN_LIFETIME,
			'jti'         => bin2hex( random_bytes( 16 ) ),
			'actor'       => 'wp:' . (string) $user->user_login,
			'method'      => $method,
			'path'        => $path,
			'body_sha256' => hash( 'sha256', $body ),
		)
	);
}

/**
 * One call of the operator API.
 *
 * @param string                    $method "GET" or "POST".
 * @param string                    $route  The route below /operator/v1, e.g. "/registrations".
 * @param array<string, string|int> $query  Query parameters (GET).
 * @param array<string, mixed>|null $body   JSON body (POST; sent as {} when empty).
 * @return array{ok: bool, status: int, data: array<string, mixed>, message: string} The decoded
 *         answer; when ok is false, message is a sentence for the staff member.
 */
function operator_request( string $method, string $route, array $query = array(), ?array $body = null ): array {
	$fail = static function ( int $status, string $message ): array {
		return array(
			'ok'      => false,
			'status'  => $status,
			'data'    => array(),
			'message' => $message,
		);
	};
	if ( ! is_configured() ) {
		return $fail( 0, __( 'The payments service is not configured on this site (no shared secret).', 'therapy-sidecar' ) );
	}
	$path = OPERATOR_PATH . $route;
	$raw  = '';
	if ( 'POST' === $method ) {
		$encoded = wp_json_encode( $body ? $body : new \stdClass(), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE );
		$raw     = false === $encoded ? '{}' : $encoded;
	}
	$url = operator_base_url() . $route;
	if ( $query ) {
		$url .= '?' . http_build_query( $query, '', '&', PHP_QUERY_RFC3986 );
	}
	$args = array(
		'timeout'     => OPERATOR_TIMEOUT,
		'redirection' => 0,
		'headers'     => array(
			'Authorization' => 'TherapySidecar ' . operator_token( $method, $path, $raw ),
			'Accept'        => 'application/json',
		),
	);
	if ( 'POST' === $method ) {
		$args['headers']['Content-Type'] = 'application/json';
		$args['body']                    = $raw;
		$response                        = wp_remote_post( $url, $args );
	} else {
		$response = wp_remote_get( $url, $args );
	}
	if ( is_wp_error( $response ) ) {
		return $fail(
			0,
			sprintf(
				/* translators: %s: the transport's error message */
				__( 'The payments service could not be reached: %s', 'therapy-sidecar' ),
				$response->get_error_message()
			)
		);
	}
	$status  = (int) wp_remote_retrieve_response_code( $response );
	$decoded = json_decode( (string) wp_remote_retrieve_body( $response ), true );
	$data    = is_array( $decoded ) ? $decoded : array();
	if ( $status >= 200 && $status < 300 && is_array( $decoded ) ) {
		return array(
			'ok'      => true,
			'status'  => $status,
			'data'    => $data,
			'message' => '',
		);
	}
	return $fail( $status, operator_error_message( $status, $data ) );
}

/**
 * The sentence shown for an error answer: the sidecar's own message when it gave one, with a hint
 * for the statuses that need one.
 *
 * @param int                  $status HTTP status.
 * @param array<string, mixed> $data   Decoded body.
 */
function operator_error_message( int $status, array $data ): string {
	$error   = isset( $data['error'] ) && is_array( $data['error'] ) ? $data['error'] : array();
	$message = isset( $error['message'] ) && is_scalar( $error['message'] ) ? trim( (string) $error['message'] ) : '';
	switch ( $status ) {
		case 401:
			$hint = __( 'The payments service refused this site’s signature (check that both sides have the same shared secret and the right time).', 'therapy-sidecar' );
			break;
		case 404:
			$hint = __( 'The payments service does not know this registration.', 'therapy-sidecar' );
			break;
		case 409:
			$hint = __( 'This registration cannot be changed that way in its current state.', 'therapy-sidecar' );
			break;
		case 422:
			$hint = __( 'The payments service did not accept the values given.', 'therapy-sidecar' );
			break;
		case 429:
			$hint = __( 'Too many requests to the payments service: please wait a minute and try again.', 'therapy-sidecar' );
			break;
		default:
			$hint = sprintf(
				/* translators: %d: HTTP status code */
				__( 'The payments service answered with an error (HTTP %d).', 'therapy-sidecar' ),
				$status
			);
	}
	if ( '' === $message ) {
		return $hint;
	}
	return in_array( $status, array( 401, 429 ), true ) ? $hint . ' ' . $message : $message;
}

/**
 * GET /operator/v1/registrations?q=&state=&limit=50.
 *
 * @return array{ok: bool, status: int, data: array<string, mixed>, message: string}
 */
function operator_list_registrations( string $q, string $state ): array {
	$query = array( 'limit' => 50 );
	if ( '' !== $q ) {
		$query['q'] = $q;
	}
	if ( '' !== $state ) {
		$query['state'] = $state;
	}
	return operator_request( 'GET', '/registrations', $query );
}

/**
 * GET /operator/v1/registrations/<ref>: the registration and its timeline.
 *
 * @return array{ok: bool, status: int, data: array<string, mixed>, message: string}
 */
function operator_get_registration( string $ref ): array {
	return operator_request( 'GET', '/registrations/' . rawurlencode( $ref ) );
}

/**
 * GET /operator/v1/attention: the registrations in needs_attention.
 *
 * @return array{ok: bool, status: int, data: array<string, mixed>, message: string}
 */
function operator_attention(): array {
	return operator_request( 'GET', '/attention' );
}

/**
 * POST /operator/v1/registrations/<ref>/redrive.
 *
 * @return array{ok: bool, status: int, data: array<string, mixed>, message: string}
 */
function operator_redrive( string $ref ): array {
	return operator_request( 'POST', '/registrations/' . rawurlencode( $ref ) . '/redrive', array(), array() );
}

/**
 * POST /operator/v1/registrations/<ref>/cancel: cancel and refund (all, or the amount given).
 *
 * @param string      $ref    Registration reference.
 * @param string|null $amount Decimal amount such as "50.00", or null for the full amount.
 * @param string      $reason Why (recorded by the sidecar with the acting user).
 * @return array{ok: bool, status: int, data: array<string, mixed>, message: string}
 */
function operator_cancel( string $ref, ?string $amount, string $reason ): array {
	return operator_request(
		'POST',
		'/registrations/' . rawurlencode( $ref ) . '/cancel',
		array(),
		array(
			'amount' => $amount,
			'reason' => $reason,
		)
	);
}
