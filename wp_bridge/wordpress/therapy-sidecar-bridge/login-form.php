<?php
/**
 * wp-login.php?user_login=EMAIL&redirect_to=URL, where the sidecar's status page and a spent login
 * grant send a buyer who must log in with a password: the e-mail is filled in, and a browser already
 * logged in as that user goes straight on to redirect_to (the thank-you page).
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/**
 * The e-mail address of wp-login.php?user_login=EMAIL on a GET of the login form, else ''.
 */
function login_form_email(): string {
	// No nonce: a GET that only pre-fills the form.
	if ( 'GET' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) || ! isset( $_GET['user_login'] ) || ! is_string( $_GET['user_login'] ) ) {
		return '';
	}
	$email = sanitize_email( wp_unslash( $_GET['user_login'] ) );
	return is_email( $email ) ? $email : '';
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
			$json = wp_json_encode( $email, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT );
			// $json is wp_json_encode() with JSON_HEX_TAG and friends: nothing in it can close the script.
			echo '<script>(function(){var u=document.getElementById("user_login"),p=document.getElementById("user_pass");'
				. 'if(u&&!u.value){u.value=' . $json . ';}if(p){p.focus();}})();</script>';
		}
	);
}
