<?php
/**
 * The form draft the sidecar leaves when it sends a buyer back to the form (a refused field, a full
 * group, a payment to start again): what the buyer typed, never the password, in the short-lived
 * cookie tps_draft, encrypted and authenticated (AES-256-GCM) so it is neither readable nor
 * forgeable in the browser (docs/contracts.md, "Form draft"). The sidecar's
 * sidecar/payments/drafts.py writes it:
 *
 *   value = "v1." . b64url( nonce[12] . ciphertext . tag[16] )
 *   key   = HMAC_SHA256( shared secret, "therapy-sidecar form draft v1" ), aad "tps_draft v1"
 *   plaintext = {"v":1,"exp":unix seconds,"group_id":int,"page":url,"fields":{name:text}}
 *
 * The cookie reaches WordPress only when the sidecar is served on the site's host (the default
 * THERAPY_SIDECAR_URL, home_url('/sidecar')); otherwise the form simply comes back empty.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/** The cookie's name. */
const DRAFT_COOKIE = 'tps_draft';

/** Longer cookie values are ignored before any work is done. */
const MAX_DRAFT_LENGTH = 3000;

/**
 * The fields a draft may fill in, with the form's maxlength for each (no password, ever).
 *
 * @return array<string, int>
 */
function draft_fields(): array {
	return array(
		'first_name' => 100,
		'last_name'  => 100,
		'email'      => 100,
		'phone'      => 32,
		'street1'    => 200,
		'city'       => 100,
		'country'    => 2,
	);
}

/**
 * The request's form draft for $group_id: its fields, or an empty array when there is none, it is
 * damaged, expired, sealed with another secret or for another group.
 *
 * @return array<string, string>
 */
function form_draft( int $group_id ): array {
	$value = isset( $_COOKIE[ DRAFT_COOKIE ] ) ? (string) wp_unslash( $_COOKIE[ DRAFT_COOKIE ] ) : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- authenticated below, escaped where printed.
	$draft = open_form_draft( $value, time() );
	if ( null === $draft || $draft['group_id'] !== $group_id ) {
		return array();
	}
	return $draft['fields'];
}

/**
 * Decrypts a draft cookie value with the shared secret (or the one also accepted in a rotation).
 *
 * @return array{group_id: int, page: string, fields: array<string, string>}|null
 */
function open_form_draft( string $value, int $now ): ?array {
	if ( '' === $value || strlen( $value ) > MAX_DRAFT_LENGTH || 0 !== strpos( $value, 'v1.' ) ) {
		return null;
	}
	$blob = b64url_decode( substr( $value, 3 ) );
	if ( null === $blob || strlen( $blob ) < 12 + 16 || ! function_exists( 'openssl_decrypt' ) ) {
		return null;
	}
	$nonce  = substr( $blob, 0, 12 );
	$tag    = substr( $blob, -16 );
	$sealed = substr( $blob, 12, -16 );
	foreach ( array( shared_secret(), also_accepted_secret() ) as $secret ) {
		if ( '' === $secret ) {
			continue;
		}
		$key   = hash_hmac( 'sha256', 'therapy-sidecar form draft v1', $secret, true );
		$plain = openssl_decrypt( $sealed, 'aes-256-gcm', $key, OPENSSL_RAW_DATA, $nonce, $tag, 'tps_draft v1' );
		if ( false !== $plain ) {
			return parse_form_draft( $plain, $now );
		}
	}
	return null;
}

/**
 * The draft in a decrypted payload when it is version 1 and not expired; its fields cut to size.
 *
 * @return array{group_id: int, page: string, fields: array<string, string>}|null
 */
function parse_form_draft( string $plain, int $now ): ?array {
	$data = json_decode( $plain, true );
	if ( ! is_array( $data ) || 1 !== ( $data['v'] ?? null ) || ! is_int( $data['exp'] ?? null ) || $data['exp'] <= $now ) {
		return null;
	}
	if ( ! is_int( $data['group_id'] ?? null ) || ! is_array( $data['fields'] ?? null ) ) {
		return null;
	}
	$fields = array();
	foreach ( draft_fields() as $name => $limit ) {
		$text = $data['fields'][ $name ] ?? null;
		if ( is_string( $text ) && '' !== trim( $text ) ) {
			$fields[ $name ] = mb_substr( trim( $text ), 0, $limit );
		}
	}
	return array(
		'group_id' => $data['group_id'],
		'page'     => is_string( $data['page'] ?? null ) ? $data['page'] : '',
		'fields'   => $fields,
	);
}
