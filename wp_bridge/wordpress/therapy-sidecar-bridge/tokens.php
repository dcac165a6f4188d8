<?php
/**
 * Signed tokens shared with the sidecar (docs/contracts.md, "Signed tokens").
 *
 *   token = b64url(payload_json) . "." . b64url(HMAC_SHA256(secret, b64url(payload_json)))
 *
 * b64url is URL-safe base64 without padding. The payload is a JSON object with at least "typ" and
 * "exp" (unix seconds). The secret is the constant THERAPY_SIDECAR_SHARED_SECRET.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/** Lifetime of the checkout form token (seconds). */
const FORM_TOKEN_LIFETIME = 7200;

/** A login grant may not be valid for longer than this (seconds ahead of now). */
const LOGIN_GRANT_MAX_LIFETIME = 600;

/** Shorter secrets are treated as "not configured". */
const MIN_SECRET_LENGTH = 32; // the sidecar refuses shorter shared secrets too

/** Tokens longer than this are rejected before any work is done. */
const MAX_TOKEN_LENGTH = 4096;

/**
 * The shared secret, or '' when the site has not configured one.
 */
function shared_secret(): string {
	if ( ! defined( 'THERAPY_SIDECAR_SHARED_SECRET' ) ) {
		return '';
	}
	$secret = (string) constant( 'THERAPY_SIDECAR_SHARED_SECRET' );
	return strlen( $secret ) >= MIN_SECRET_LENGTH ? $secret : '';
}

/**
 * A second secret also accepted when verifying (never used to sign), for rotating the shared
 * secret without downtime: THERAPY_SIDECAR_SHARED_SECRET_ALSO_ACCEPTED; '' when unset.
 */
function also_accepted_secret(): string {
	if ( ! defined( 'THERAPY_SIDECAR_SHARED_SECRET_ALSO_ACCEPTED' ) ) {
		return '';
	}
	$secret = (string) constant( 'THERAPY_SIDECAR_SHARED_SECRET_ALSO_ACCEPTED' );
	return strlen( $secret ) >= MIN_SECRET_LENGTH ? $secret : '';
}

function is_configured(): bool {
	return '' !== shared_secret();
}

function b64url_encode( string $bytes ): string {
	return rtrim( strtr( base64_encode( $bytes ), '+/', '-_' ), '=' );
}

/**
 * Strict decoder: only the URL-safe alphabet, no padding; null when the text is not valid.
 */
function b64url_decode( string $text ): ?string {
	if ( '' === $text || ! preg_match( '/^[A-Za-z0-9_-]+$/', $text ) || 1 === strlen( $text ) % 4 ) {
		return null;
	}
	$padded  = strtr( $text, '-_', '+/' );
	$padded .= str_repeat( '=', ( 4 - strlen( $padded ) % 4 ) % 4 );
	$bytes   = base64_decode( $padded, true );
	return false === $bytes ? null : $bytes;
}

/**
 * Signs a payload. Returns '' when no secret is configured.
 *
 * @param array<string, mixed> $payload JSON-serialisable payload; must contain "typ" and "exp".
 */
function sign_token( array $payload ): string {
	$secret = shared_secret();
	if ( '' === $secret ) {
		return '';
	}
	$json = wp_json_encode( $payload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE );
	if ( false === $json ) {
		return '';
	}
	$body = b64url_encode( $json );
	return $body . '.' . b64url_encode( hash_hmac( 'sha256', $body, $secret, true ) );
}

/**
 * Verifies a token's signature, type and expiry.
 *
 * @param string   $token Token text.
 * @param string   $typ   Expected "typ".
 * @param int|null $now   Current unix time (tests); default time().
 * @return array<string, mixed>|\WP_Error The payload, or an error with status 403
 *                                        (503 when the site has no shared secret).
 */
function verify_token( string $token, string $typ, ?int $now = null ) {
	$secret = shared_secret();
	if ( '' === $secret ) {
		return new \WP_Error(
			'therapy_sidecar_not_configured',
			'The sidecar bridge has no shared secret (THERAPY_SIDECAR_SHARED_SECRET).',
			array( 'status' => 503 )
		);
	}
	$invalid = new \WP_Error( 'therapy_token_invalid', 'The token is not valid.', array( 'status' => 403 ) );
	if ( '' === $token || strlen( $token ) > MAX_TOKEN_LENGTH ) {
		return $invalid;
	}
	$dot = strrpos( $token, '.' );
	if ( false === $dot || 0 === $dot ) {
		return $invalid;
	}
	$body      = substr( $token, 0, $dot );
	$signature = substr( $token, $dot + 1 );
	$matches = false;
	foreach ( array_filter( array( $secret, also_accepted_secret() ) ) as $candidate ) {
		$expected = b64url_encode( hash_hmac( 'sha256', $body, $candidate, true ) );
		$matches  = hash_equals( $expected, $signature ) || $matches;
	}
	if ( ! $matches ) {
		return $invalid;
	}
	$json = b64url_decode( $body );
	if ( null === $json ) {
		return $invalid;
	}
	$object = json_decode( $json, false, 16 );
	if ( ! $object instanceof \stdClass ) {
		return $invalid; // Not a JSON object.
	}
	$payload = json_decode( $json, true, 16 );
	if ( ! is_array( $payload ) || ! isset( $payload['typ'] ) || $payload['typ'] !== $typ ) {
		return $invalid;
	}
	$exp = $payload['exp'] ?? null;
	if ( ! is_int( $exp ) && ! is_float( $exp ) ) {
		return $invalid;
	}
	$now = $now ?? time();
	if ( $exp <= $now ) {
		return new \WP_Error( 'therapy_token_expired', 'The token has expired.', array( 'status' => 403 ) );
	}
	return $payload;
}

/**
 * A positive integer user id from a payload value (JSON number or digit string), else 0.
 *
 * @param mixed $value Payload value.
 */
function payload_uid( $value ): int {
	if ( is_int( $value ) ) {
		return max( 0, $value );
	}
	if ( is_string( $value ) && preg_match( '/^[0-9]{1,19}$/', $value ) ) {
		return (int) $value;
	}
	return 0;
}

/**
 * Makes the `form` token rendered into the checkout form.
 */
function make_form_token( ?int $now = null ): string {
	$user = wp_get_current_user();
	$uid  = $user->exists() ? (int) $user->ID : 0;
	return sign_token(
		array(
			'typ'   => 'form',
			'uid'   => $uid,
			'email' => $uid > 0 ? (string) $user->user_email : '',
			'exp'   => ( $now ?? time() ) + FORM_TOKEN_LIFETIME,
			'nonce' => bin2hex( random_bytes( 16 ) ),
		)
	);
}
