<?php
/**
 * wp-login.php?user_login=EMAIL&redirect_to=URL, where the sidecar's status page and a spent login
 * grant send a buyer who must log in with a password: the e-mail is filled in, and a browser already
 * logged in as that user goes straight on to redirect_to (the thank-you page). The same with
 * ?therapy_prefill=TOKEN instead of the address (the status page on another device), and on
 * wp-login.php?action=lostpassword (set a password) with either.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/** The query parameter of the sidecar's signed prefill token (its e-mail stays out of URLs). */
const PREFILL_PARAM = 'therapy_prefill';

/**
 * The e-mail address to fill in on a GET of the login or lost-password form: from
 * ?user_login=EMAIL, or from ?therapy_prefill=TOKEN (a sidecar token naming the user, so that the
 * address is in no URL, log or Referer), else ''.
 */
function login_form_email(): string {
	// No nonce: a GET that only pre-fills the form.
	if ( 'GET' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) ) {
		return '';
	}
	if ( isset( $_GET[ PREFILL_PARAM ] ) && is_string( $_GET[ PREFILL_PARAM ] ) ) {
		$payload = verify_token( wp_unslash( $_GET[ PREFILL_PARAM ] ), 'prefill' );
		$user    = is_array( $payload ) ? get_userdata( payload_uid( $payload['uid'] ?? null ) ) : false;
		return $user ? (string) $user->user_email : '';
	}
	if ( ! isset( $_GET['user_login'] ) || ! is_string( $_GET['user_login'] ) ) {
		return '';
	}
	$email = sanitize_email( wp_unslash( $_GET['user_login'] ) );
	return is_email( $email ) ? $email : '';
}

/**
 * login_form_lostpassword (wp-login.php?action=lostpassword; wired in therapy-sidecar-bridge.php):
 * fill the buyer's e-mail into the "get a new password" form (core fills it only from a POST), for
 * a paid buyer who never set a password or whose login link is spent.
 */
function lostpassword_form_for_buyer(): void {
	$email = login_form_email();
	if ( '' === $email ) {
		return;
	}
	add_action(
		'lostpassword_form',
		static function () use ( $email ): void {
			echo prefill_script( $email, false ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- JSON with JSON_HEX_* (see prefill_script).
		}
	);
}

/**
 * A script that fills #user_login with the e-mail (when empty) and, on the login form, focuses the
 * password.
 */
function prefill_script( string $email, bool $focus_password ): string {
	// wp_json_encode() with JSON_HEX_TAG and friends: nothing in it can close the script.
	$json = wp_json_encode( $email, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT );
	return '<script>(function(){var u=document.getElementById("user_login"),p=document.getElementById("user_pass");'
		. 'if(u&&!u.value){u.value=' . $json . ';}' . ( $focus_password ? 'if(p){p.focus();}' : '' ) . '})();</script>';
}

/**
 * login_form_login (wp-login.php; wired in therapy-sidecar-bridge.php): for ?user_login=EMAIL (the
 * sidecar's login_page_url), send a browser already logged in as that user on to redirect_to; else
 * fill the e-mail into the form (core fills it only from a POST).
 */
function login_form_for_buyer(): void {
	$email = login_form_email();
	if ( '' === $email ) {
		return;
	}
	$current = wp_get_current_user();
	if ( $current->exists() && 0 === strcasecmp( (string) $current->user_email, $email ) ) {
		// No nonce: a same-site redirect only (wp_validate_redirect).
		$next = isset( $_GET['redirect_to'] ) && is_string( $_GET['redirect_to'] ) ? wp_unslash( $_GET['redirect_to'] ) : '';
		wp_safe_redirect( wp_validate_redirect( $next, home_url( '/' ) ) );
		exit;
	}
	add_filter( 'enable_login_autofocus', '__return_false' ); // Core would select the prefilled name.
	add_action(
		'login_form',
		static function () use ( $email ): void {
			echo prefill_script( $email, true ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- JSON with JSON_HEX_* (see prefill_script).
		}
	);
}
