<?php
/**
 * [therapy_sidecar_form group="ID"]: the registration form, its countries, labels and error sentences.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

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
