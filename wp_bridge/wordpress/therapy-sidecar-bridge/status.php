<?php
/**
 * [therapy_sidecar_status]: the "you are being registered" page, and the handle of its script.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/**
 * The handle of the status page's script (no file: the code is inline, see status_script_source()).
 */
const STATUS_SCRIPT = 'therapy-sidecar-status';

/**
 * init (wired in therapy-sidecar-bridge.php): register the status page's script, in the footer, so
 * that a [therapy_sidecar_status] can enqueue it. Its code defines therapySidecarStatus(); each
 * shortcode adds one call with its own settings (wp_add_inline_script), so WordPress prints the
 * code once per page and only on pages that show the shortcode with a registration to follow.
 */
function register_status_script(): void {
	wp_register_script( STATUS_SCRIPT, false, array(), false, true );
	wp_add_inline_script( STATUS_SCRIPT, status_script_source() );
}

/**
 * [therapy_sidecar_status]
 *
 * @param array<string, string>|string $atts Shortcode attributes (registration_url, optional).
 */
function shortcode_status( $atts ): string {
	$atts = shortcode_atts( array( 'registration_url' => '' ), is_array( $atts ) ? $atts : array(), 'therapy_sidecar_status' );
	mark_page_uncacheable();

	// No nonce: display only (is_valid_intent_ref() checks the value below).
	$intent = isset( $_GET['intent'] ) && is_string( $_GET['intent'] ) ? wp_unslash( $_GET['intent'] ) : '';
	$code   = query_key( 'code' );
	$back   = '' !== $atts['registration_url'] ? esc_url_raw( $atts['registration_url'] ) : default_registration_url();

	$back_html = static function ( bool $hidden ) use ( $back ): string {
		return '<p class="therapy-sidecar-status__back"' . ( $hidden ? ' hidden' : '' ) . '><a href="' . esc_url( $back ) . '">' . esc_html__( 'Back to the registration page', 'therapy-sidecar' ) . '</a></p>';
	};
	if ( ! is_valid_intent_ref( $intent ) ) {
		return wrap_markup(
			notice_html( __( 'We could not find a registration to follow on this page.', 'therapy-sidecar' ), 'error' ) . $back_html( false ),
			'therapy-sidecar-status'
		);
	}

	$payment_messages = array(
		'payment_declined'  => __( 'Your payment was declined and you have not been charged.', 'therapy-sidecar' ),
		'payment_cancelled' => __( 'The payment was cancelled and you have not been charged.', 'therapy-sidecar' ),
		'payment_error'     => __( 'The payment could not be completed.', 'therapy-sidecar' ),
	);
	$failed_code = isset( $payment_messages[ $code ] );
	$id          = wp_unique_id( 'therapy-sidecar-status-' );
	$status_url  = sidecar_url() . '/therapy/status/' . rawurlencode( $intent );

	$out = sprintf(
		'<p class="therapy-sidecar-status__message" role="status" aria-live="polite">%s</p>',
		esc_html( $failed_code ? $payment_messages[ $code ] : __( 'You are being registered to your selected group…', 'therapy-sidecar' ) )
	);
	$out .= $back_html( ! $failed_code );
	if ( ! $failed_code ) {
		// Without JavaScript the sidecar's own status page takes over: it refreshes itself and,
		// once the registration is complete, sends the paying browser through the login link.
		$out .= '<noscript><meta http-equiv="refresh" content="3;url=' . esc_url( $status_url ) . '"><p>'
			. esc_html__( 'This page will take you to your registration status in a few seconds.', 'therapy-sidecar' )
			. ' <a href="' . esc_url( $status_url ) . '">' . esc_html__( 'Check your registration now', 'therapy-sidecar' ) . '</a></p></noscript>';
	}
	$out = wrap_markup( $out, 'therapy-sidecar-status', $id );

	$config = array(
		'id'        => $id,
		'statusUrl' => $status_url,
		// Long poll: the sidecar holds each ask up to 'wait' s and answers when the state changes;
		// 'interval' (ms) is the ordinary polling when it cannot hold one, 'retryMs' after an error.
		'wait'      => 25,
		'interval'  => 1500,
		'retryMs'   => 1500,
		'maxWaitMs' => 15 * 60 * 1000,
		'failed'    => $failed_code,
		// A buyer logged in already (Back or refresh after the login) goes to the thank-you page,
		// never through the spent login link again.
		'loggedIn'  => is_user_logged_in(),
		'texts'     => array(
			'notFound' => __( 'We could not find this registration. If you have paid, please contact us.', 'therapy-sidecar' ),
			'retrying' => __( 'Still working on your registration…', 'therapy-sidecar' ),
			'timeout'     => __( 'This is taking longer than expected. If you have paid, we will e-mail you as soon as your registration is complete.', 'therapy-sidecar' ),
			// A paid buyer whose browser is not logged in: the two ways in, under the sidecar's sentence.
			'signIn'      => __( 'Log in', 'therapy-sidecar' ),
			'setPassword' => __( 'Set or reset your password', 'therapy-sidecar' ),
			// After a declined or cancelled payment (the paying browser only): a fresh payment page
			// while the place is held, else the form again with the details filled in.
			'retry'       => __( 'Try again', 'therapy-sidecar' ),
			'restart'     => __( 'Fill in the form again', 'therapy-sidecar' ),
			/* translators: %s: a time of day, HH:MM in the site's timezone. */
			'heldUntil'   => __( 'Your place is held for you until %s.', 'therapy-sidecar' ),
		),
	);
	$json = wp_json_encode( $config, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_UNESCAPED_SLASHES );

	// One call of the status script per shortcode, printed in the footer after the markup it looks up.
	wp_enqueue_script( STATUS_SCRIPT );
	wp_add_inline_script( STATUS_SCRIPT, sprintf( 'therapySidecarStatus(%s);', $json ) );
	return $out;
}
