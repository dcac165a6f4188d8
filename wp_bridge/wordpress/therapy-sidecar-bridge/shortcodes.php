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
 * Countries offered in the form (ISO 3166-1 alpha-2 => name). Filter: therapy_sidecar_form_countries.
 *
 * @return array<string, string>
 */
function form_countries(): array {
	$countries = array(
		'SA' => 'Saudi Arabia',
		'AE' => 'United Arab Emirates',
		'BH' => 'Bahrain',
		'KW' => 'Kuwait',
		'OM' => 'Oman',
		'QA' => 'Qatar',
		'EG' => 'Egypt',
		'JO' => 'Jordan',
		'GB' => 'United Kingdom',
		'US' => 'United States',
	);
	$filtered = apply_filters( 'therapy_sidecar_form_countries', $countries );
	return is_array( $filtered ) && $filtered ? $filtered : $countries;
}

/**
 * Labels of the form fields, as used in error sentences.
 *
 * @return array<string, string>
 */
function form_field_labels(): array {
	return array(
		'first_name'      => 'First name',
		'last_name'       => 'Last name',
		'email'           => 'E-mail address',
		'phone'           => 'Phone number',
		'street1'         => 'Street address',
		'city'            => 'City',
		'country'         => 'Country',
		'password'        => 'Password',
		'group_id'        => 'Group',
		'form_token'      => 'Form',
		'idempotency_key' => 'Form',
	);
}

/**
 * The sentence shown for ?error=CODE&field=F (sidecar error codes; unknown codes get a generic one).
 */
function form_error_message( string $code, string $field = '' ): string {
	$labels = form_field_labels();
	$label  = $labels[ $field ] ?? '';
	switch ( $code ) {
		case 'missing_field':
		case 'required':
		case 'field_required':
			return '' !== $label ? sprintf( 'Please fill in the field “%s”.', $label ) : 'Please fill in all required fields.';
		case 'invalid_field':
		case 'invalid':
		case 'invalid_input':
		case 'validation_error':
			return '' !== $label ? sprintf( 'Please check the field “%s”.', $label ) : 'Please check the form and try again.';
		case 'field_too_long':
			return '' !== $label ? sprintf( 'The field “%s” is too long.', $label ) : 'One of the fields is too long.';
		case 'invalid_characters':
			return '' !== $label ? sprintf( 'The field “%s” contains characters we cannot accept.', $label ) : 'One of the fields contains characters we cannot accept.';
		case 'invalid_address':
			return 'street1' === $field ? 'Please enter your street address (4 to 128 characters).' : ( 'city' === $field ? 'Please enter your city (2 to 128 characters).' : 'Please check your address.' );
		case 'invalid_group':
			return 'The selected group is not valid. Please reload the page.';
		case 'invalid_form':
		case 'idempotency_conflict':
			return 'This form was already used or is damaged. Please reload the page and try again.';
		case 'invalid_email':
			return 'Please enter a valid e-mail address.';
		case 'invalid_phone':
			return 'Please enter a valid phone number, including the country code.';
		case 'invalid_country':
			return 'Please choose your country from the list.';
		case 'invalid_name':
			return 'Please enter your real first and last name (letters, at most 50 characters each).';
		case 'password_too_short':
		case 'weak_password':
		case 'invalid_password':
			return 'Please choose a password of 8 to 128 characters without a backslash, or leave the field empty to set one later by e-mail.';
		case 'form_expired':
		case 'token_expired':
		case 'invalid_form_token':
		case 'invalid_token':
		case 'bad_form_token':
		case 'csrf':
			return 'This form has expired. Please fill it in again.';
		case 'email_exists':
		case 'email_taken':
		case 'account_exists':
		case 'existing_user_email':
		case 'login_required':
			return 'An account with this e-mail address already exists. Please log in first, then register for the group.';
		case 'already_registered':
		case 'already_booked':
		case 'duplicate':
			return 'You are already registered for this group.';
		case 'registration_in_progress':
			return __( 'You already started a registration for this group. Finish paying in the window where you started it, or try again in about half an hour.', 'therapy-sidecar' );
		case 'group_full':
		case 'therapy_group_full':
			return 'Sorry, this group is full.';
		case 'group_closed':
		case 'therapy_group_closed':
			return 'Registration for this group is closed.';
		case 'group_not_found':
		case 'unknown_group':
		case 'therapy_group_not_found':
			return 'This group could not be found.';
		case 'rate_limited':
		case 'too_many_requests':
			return 'Too many attempts. Please wait a minute and try again.';
		case 'credentials_unavailable':
		case 'wordpress_unavailable':
		case 'payment_unavailable':
		case 'payment_provider_unavailable':
		case 'service_unavailable':
		case 'unavailable':
			return 'Online payment is temporarily unavailable. Please try again in a few minutes.';
		case 'payment_declined':
			return 'Your payment was declined and you have not been charged. Please try again or use another card.';
		case 'payment_cancelled':
			return 'The payment was cancelled and you have not been charged.';
		case 'payment_error':
			return 'The payment could not be completed. Please try again.';
		default:
			return 'Something went wrong with your registration. Please check the form and try again.';
	}
}

/**
 * Whether ?error=CODE means that the e-mail address belongs to an account already.
 */
function is_known_email_error( string $code ): bool {
	return in_array( $code, array( 'email_exists', 'email_taken', 'account_exists', 'existing_user_email', 'login_required' ), true );
}

/**
 * Under the known-e-mail message: "Log in" and "Forgot your password?", both coming back to
 * $back (this form's page with its group). The e-mail the buyer typed is never put in a URL.
 */
function known_email_links_html( string $back ): string {
	return sprintf(
		'<p class="therapy-sidecar-notice__actions"><a class="therapy-sidecar-login" href="%1$s">%2$s</a> · <a class="therapy-sidecar-lostpassword" href="%3$s">%4$s</a></p>',
		esc_url( wp_login_url( $back ) ),
		esc_html__( 'Log in', 'therapy-sidecar' ),
		esc_url( wp_lostpassword_url( $back ) ),
		esc_html__( 'Forgot your password?', 'therapy-sidecar' )
	);
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

/**
 * [therapy_sidecar_form group="ID"]
 *
 * @param array<string, string>|string $atts Shortcode attributes.
 */
function shortcode_form( $atts ): string {
	$atts     = shortcode_atts( array( 'group' => '' ), is_array( $atts ) ? $atts : array(), 'therapy_sidecar_form' );
	$group_id = absint( $atts['group'] );
	if ( ! $group_id ) {
		$group_id = absint( query_key( 'group_id' ) );
	}
	mark_page_uncacheable();

	if ( ! is_configured() ) {
		$out = notice_html( 'Online registration is not available right now. Please try again later.', 'error' );
		if ( current_user_can( 'manage_options' ) ) {
			/* translators: %d: the shortest shared secret the plugin and the sidecar accept. */
			$notice = __( 'Administrators: define THERAPY_SIDECAR_SHARED_SECRET (at least %d characters) in wp-config.php.', 'therapy-sidecar' );
			$out   .= notice_html( sprintf( $notice, MIN_SECRET_LENGTH ), 'error' );
		}
		return $out;
	}
	$group = get_group_info( $group_id );
	if ( null === $group ) {
		return notice_html( 'This group could not be found.', 'error' );
	}

	$out   = '';
	$error = query_key( 'error' );
	$field = query_key( 'field' );
	if ( '' !== $error ) {
		$out .= notice_html( form_error_message( $error, $field ), 'error' );
	}
	if ( is_known_email_error( $error ) && ! is_user_logged_in() ) {
		// Back to this page with the same group: the page's own group="", else ?group_id=.
		$back = (string) get_permalink();
		if ( ! absint( $atts['group'] ) ) {
			$back = add_query_arg( 'group_id', (int) $group['id'], $back );
		}
		$out .= known_email_links_html( $back );
	}
	if ( ! $group['open'] ) {
		return $out . notice_html( 'Registration for this group is closed.', 'info' );
	}
	$seats = sidecar_seats( (int) $group['id'] );
	if ( null !== $seats && 0 === $seats['left'] && $seats['held_now'] > 0 && $seats['next_release_at'] > 0 ) {
		// Rounded up to the minute: a place frees up when its hold ends, not before.
		$after = gmdate( 'H:i', (int) ( ceil( $seats['next_release_at'] / 60 ) * 60 ) );
		/* translators: %s: a time of day, HH:MM in UTC. */
		$held = __( 'All places are being paid for right now; try again after %s.', 'therapy-sidecar' );
		return $out . notice_html( sprintf( $held, $after ), 'info' );
	}
	if ( null !== $seats ? 0 === $seats['left'] : group_is_full( $group ) ) {
		return $out . notice_html( 'Sorry, this group is full.', 'info' );
	}
	$seats_left = null !== $seats ? $seats['left'] : max( 0, (int) $group['capacity'] - (int) $group['seats_taken'] );

	$user      = wp_get_current_user();
	$logged_in = $user->exists();
	$action    = sidecar_url() . '/therapy/checkout';
	$uid       = wp_unique_id( 'therapy-sidecar-form-' );

	$input = static function ( string $name, string $label, string $type, string $value, array $extra = array() ) use ( $uid, $field ): string {
		$id    = $uid . '-' . $name;
		$attrs = '';
		foreach ( $extra as $attr => $attr_value ) {
			$attrs .= true === $attr_value ? ' ' . $attr : sprintf( ' %s="%s"', $attr, esc_attr( (string) $attr_value ) );
		}
		if ( $name === $field ) {
			$attrs .= ' aria-invalid="true"';
		}
		return sprintf(
			'<p class="therapy-sidecar-field therapy-sidecar-field--%1$s%6$s"><label for="%2$s">%3$s</label> <input type="%4$s" id="%2$s" name="%1$s" value="%5$s"%7$s></p>',
			esc_attr( $name ),
			esc_attr( $id ),
			esc_html( $label ),
			esc_attr( $type ),
			esc_attr( $value ),
			$name === $field ? ' therapy-sidecar-field--invalid' : '',
			$attrs
		);
	};

	$out .= sprintf(
		'<form class="therapy-sidecar-form" method="post" action="%s" accept-charset="UTF-8">',
		esc_url( $action )
	);
	/* translators: 1: places left, 2: the group's places in all. */
	$seats_line = sprintf( __( '%1$d of %2$d seats left', 'therapy-sidecar' ), $seats_left, (int) $group['capacity'] );
	$out       .= sprintf(
		'<p class="therapy-sidecar-form__group"><strong>%s</strong><br>%s %s<br><span class="therapy-sidecar-form__seats">%s</span></p>',
		esc_html( $group['name'] ),
		esc_html( $group['price'] ),
		esc_html( $group['currency'] ),
		esc_html( $seats_line )
	);
	$out .= sprintf( '<input type="hidden" name="group_id" value="%d">', (int) $group['id'] );
	$out .= sprintf( '<input type="hidden" name="idempotency_key" value="%s">', esc_attr( bin2hex( random_bytes( 16 ) ) ) );
	$out .= sprintf( '<input type="hidden" name="form_token" value="%s">', esc_attr( make_form_token() ) );
	// Where the sidecar sends the buyer back with an error: this very page, query included (the
	// browser's Referer carries only the origin across sites). The sidecar accepts only this site.
	$here = remove_query_arg(
		array( 'error', 'field' ),
		add_query_arg( urlencode_deep( wp_unslash( $_GET ) ), (string) get_permalink() ) // No nonce: the page's own query, sent back as the form's return address.
	);
	$out .= sprintf( '<input type="hidden" name="form_url" value="%s">', esc_attr( $here ) );

	$out .= $input( 'first_name', 'First name', 'text', $logged_in ? (string) $user->first_name : '', array( 'required' => true, 'autocomplete' => 'given-name', 'maxlength' => 100 ) );
	$out .= $input( 'last_name', 'Last name', 'text', $logged_in ? (string) $user->last_name : '', array( 'required' => true, 'autocomplete' => 'family-name', 'maxlength' => 100 ) );
	$email_extra = array( 'required' => true, 'autocomplete' => 'email', 'maxlength' => 100 );
	if ( $logged_in ) {
		$email_extra['readonly'] = true; // The sidecar takes a logged-in buyer's e-mail from the form token.
	}
	$out .= $input( 'email', 'E-mail address', 'email', $logged_in ? (string) $user->user_email : '', $email_extra );
	$out .= $input( 'phone', 'Phone number', 'tel', '', array( 'required' => true, 'autocomplete' => 'tel', 'maxlength' => 32 ) );
	$out .= $input( 'street1', 'Street address', 'text', '', array( 'required' => true, 'autocomplete' => 'address-line1', 'maxlength' => 200 ) );
	$out .= $input( 'city', 'City', 'text', '', array( 'required' => true, 'autocomplete' => 'address-level2', 'maxlength' => 100 ) );

	$options = '';
	foreach ( form_countries() as $code => $name ) {
		$options .= sprintf( '<option value="%1$s"%3$s>%2$s</option>', esc_attr( $code ), esc_html( $name ), selected( 'SA', $code, false ) );
	}
	$out .= sprintf(
		'<p class="therapy-sidecar-field therapy-sidecar-field--country%4$s"><label for="%1$s-country">%2$s</label> <select id="%1$s-country" name="country" required autocomplete="country"%5$s>%3$s</select></p>',
		esc_attr( $uid ),
		esc_html( 'Country' ),
		$options,
		'country' === $field ? ' therapy-sidecar-field--invalid' : '',
		'country' === $field ? ' aria-invalid="true"' : ''
	);

	if ( ! $logged_in ) {
		$out .= $input( 'password', 'Password (optional: leave empty and we will e-mail you a link to set one)', 'password', '', array( 'autocomplete' => 'new-password', 'minlength' => 8, 'maxlength' => 200 ) );
	}
	$out .= sprintf(
		'<p class="therapy-sidecar-form__submit"><button type="submit">%s</button></p></form>',
		esc_html( sprintf( 'Continue to payment (%s %s)', $group['price'], $group['currency'] ) )
	);
	return '<div class="therapy-sidecar">' . $out . '</div>';
}

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
 * The status page's script: therapySidecarStatus(c) polls c.statusUrl every c.interval ms, shows the
 * sidecar's message in the box #c.id, and sends the browser on (login link, login form or thank-you
 * page) when the sidecar gives a same-site or http(s) address. c is built by shortcode_status().
 */
function status_script_source(): string {
	return <<<'JS'
window.therapySidecarStatus = function (c) {
	var box = document.getElementById(c.id);
	if (!box || !window.fetch) {
		return;
	}
	var msg = box.querySelector(".therapy-sidecar-status__message");
	var back = box.querySelector(".therapy-sidecar-status__back");
	var bad = ["payment_failed", "expired", "refunding", "refunded", "needs_attention"];
	var t0 = Date.now(), stopped = false;
	function say(s) {
		if (typeof s === "string" && s) {
			msg.textContent = s;
		}
	}
	function stop(showBack) {
		stopped = true;
		box.setAttribute("data-done", "1");
		if (showBack && back) {
			back.hidden = false;
		}
	}
	function later() {
		if (!stopped) {
			setTimeout(poll, c.interval);
		}
	}
	function safe(u) {
		return typeof u === "string" && /^(https?:\/\/|\/(?!\/))/i.test(u);
	}
	function poll() {
		if (Date.now() - t0 > c.maxWaitMs) {
			say(c.texts.timeout);
			stop(true);
			return;
		}
		fetch(c.statusUrl, {credentials:"include", cache:"no-store", headers:{"Accept":"application/json"}})
			.then(function (r) {
				if (r.status === 404) {
					say(c.texts.notFound);
					stop(true);
					return null;
				}
				if (!r.ok) {
					throw new Error("HTTP " + r.status);
				}
				return r.json();
			})
			.then(function (d) {
				if (!d || stopped) {
					return;
				}
				// After a failed payment (c.failed) the intent awaits payment again: keep the failure sentence.
				if (!(c.failed && d.state === "awaiting_payment")) {
					say(d.message);
				}
				// Logged in already: the thank-you page, never the spent login link again.
				var ways = c.loggedIn ? [d.redirect_url] : [d.login_url, d.login_page_url, d.redirect_url];
				var next = ways.filter(safe)[0] || null;
				if (next) {
					stop(false);
					window.location.assign(next);
					return;
				}
				if (bad.indexOf(d.state) !== -1 && back) {
					back.hidden = false;
				}
				if (d.done) {
					stop(d.state !== "fulfilled");
					return;
				}
				later();
			})
			.catch(function () {
				if (!c.failed) {
					say(c.texts.retrying);
				}
				later();
			});
	}
	// Back to a page from the browser's cache: load it again, so that polling starts afresh.
	window.addEventListener("pageshow", function (e) {
		if (e.persisted) {
			window.location.reload();
		}
	});
	poll();
};
JS;
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
		return '<p class="therapy-sidecar-status__back"' . ( $hidden ? ' hidden' : '' ) . '><a href="' . esc_url( $back ) . '">Back to the registration page</a></p>';
	};
	if ( ! is_valid_intent_ref( $intent ) ) {
		return '<div class="therapy-sidecar-status">'
			. notice_html( 'We could not find a registration to follow on this page.', 'error' )
			. $back_html( false ) . '</div>';
	}

	$payment_messages = array(
		'payment_declined'  => 'Your payment was declined and you have not been charged.',
		'payment_cancelled' => 'The payment was cancelled and you have not been charged.',
		'payment_error'     => 'The payment could not be completed.',
	);
	$failed_code = isset( $payment_messages[ $code ] );
	$id          = wp_unique_id( 'therapy-sidecar-status-' );
	$status_url  = sidecar_url() . '/therapy/status/' . rawurlencode( $intent );

	$out  = sprintf( '<div class="therapy-sidecar-status" id="%s">', esc_attr( $id ) );
	$out .= sprintf(
		'<p class="therapy-sidecar-status__message" role="status" aria-live="polite">%s</p>',
		esc_html( $failed_code ? $payment_messages[ $code ] : 'You are being registered to your selected group…' )
	);
	$out .= $back_html( ! $failed_code );
	if ( ! $failed_code ) {
		// Without JavaScript the sidecar's own status page takes over: it refreshes itself and,
		// once the registration is complete, sends the paying browser through the login link.
		$out .= '<noscript><meta http-equiv="refresh" content="3;url=' . esc_url( $status_url ) . '"><p>'
			. 'This page will take you to your registration status in a few seconds. '
			. '<a href="' . esc_url( $status_url ) . '">Check your registration now</a>.</p></noscript>';
	}
	$out .= '</div>';

	$config = array(
		'id'        => $id,
		'statusUrl' => $status_url,
		'interval'  => 1500,
		'maxWaitMs' => 15 * 60 * 1000,
		'failed'    => $failed_code,
		// A buyer logged in already (Back or refresh after the login) goes to the thank-you page,
		// never through the spent login link again.
		'loggedIn'  => is_user_logged_in(),
		'texts'     => array(
			'notFound' => 'We could not find this registration. If you have paid, please contact us.',
			'retrying' => 'Still working on your registration…',
			'timeout'  => 'This is taking longer than expected. If you have paid, we will e-mail you as soon as your registration is complete.',
		),
	);
	$json = wp_json_encode( $config, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_UNESCAPED_SLASHES );

	// One call of the status script per shortcode, printed in the footer after the markup it looks up.
	wp_enqueue_script( STATUS_SCRIPT );
	wp_add_inline_script( STATUS_SCRIPT, sprintf( 'therapySidecarStatus(%s);', $json ) );
	return $out;
}
