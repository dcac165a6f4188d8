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
		'SA' => __( 'Saudi Arabia', 'therapy-sidecar' ),
		'AE' => __( 'United Arab Emirates', 'therapy-sidecar' ),
		'BH' => __( 'Bahrain', 'therapy-sidecar' ),
		'KW' => __( 'Kuwait', 'therapy-sidecar' ),
		'OM' => __( 'Oman', 'therapy-sidecar' ),
		'QA' => __( 'Qatar', 'therapy-sidecar' ),
		'EG' => __( 'Egypt', 'therapy-sidecar' ),
		'JO' => __( 'Jordan', 'therapy-sidecar' ),
		'GB' => __( 'United Kingdom', 'therapy-sidecar' ),
		'US' => __( 'United States', 'therapy-sidecar' ),
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
		'first_name'      => __( 'First name', 'therapy-sidecar' ),
		'last_name'       => __( 'Last name', 'therapy-sidecar' ),
		'email'           => __( 'E-mail address', 'therapy-sidecar' ),
		'phone'           => __( 'Phone number', 'therapy-sidecar' ),
		'street1'         => __( 'Street address', 'therapy-sidecar' ),
		'city'            => __( 'City', 'therapy-sidecar' ),
		'country'         => __( 'Country', 'therapy-sidecar' ),
		'password'        => __( 'Password', 'therapy-sidecar' ),
		'group_id'        => __( 'Group', 'therapy-sidecar' ),
		'form_token'      => __( 'Form', 'therapy-sidecar' ),
		'idempotency_key' => __( 'Form', 'therapy-sidecar' ),
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
			return '' !== $label
				/* translators: %s: the name of a form field, such as "City". */
				? sprintf( __( 'Please fill in the field “%s”.', 'therapy-sidecar' ), $label )
				: __( 'Please fill in all required fields.', 'therapy-sidecar' );
		case 'invalid_field':
		case 'invalid':
		case 'invalid_input':
		case 'validation_error':
			return '' !== $label
				/* translators: %s: the name of a form field, such as "City". */
				? sprintf( __( 'Please check the field “%s”.', 'therapy-sidecar' ), $label )
				: __( 'Please check the form and try again.', 'therapy-sidecar' );
		case 'field_too_long':
			return '' !== $label
				/* translators: %s: the name of a form field, such as "City". */
				? sprintf( __( 'The field “%s” is too long.', 'therapy-sidecar' ), $label )
				: __( 'One of the fields is too long.', 'therapy-sidecar' );
		case 'invalid_characters':
			return '' !== $label
				/* translators: %s: the name of a form field, such as "City". */
				? sprintf( __( 'The field “%s” contains characters we cannot accept.', 'therapy-sidecar' ), $label )
				: __( 'One of the fields contains characters we cannot accept.', 'therapy-sidecar' );
		case 'invalid_address':
			if ( 'street1' === $field ) {
				return __( 'Please enter your street address (4 to 128 characters).', 'therapy-sidecar' );
			}
			if ( 'city' === $field ) {
				return __( 'Please enter your city (2 to 128 characters).', 'therapy-sidecar' );
			}
			return __( 'Please check your address.', 'therapy-sidecar' );
		case 'invalid_group':
			return __( 'The selected group is not valid. Please reload the page.', 'therapy-sidecar' );
		case 'invalid_form':
		case 'idempotency_conflict':
			return __( 'This form was already used or is damaged. Please reload the page and try again.', 'therapy-sidecar' );
		case 'invalid_email':
			return __( 'Please enter a valid e-mail address.', 'therapy-sidecar' );
		case 'invalid_phone':
			return __( 'Please enter a valid phone number, including the country code.', 'therapy-sidecar' );
		case 'invalid_country':
			return __( 'Please choose your country from the list.', 'therapy-sidecar' );
		case 'invalid_name':
			return __( 'Please enter your real first and last name (letters, at most 50 characters each).', 'therapy-sidecar' );
		case 'password_too_short':
		case 'weak_password':
		case 'invalid_password':
			return __( 'Please choose a password of 8 to 128 characters without a backslash, or leave the field empty to set one later by e-mail.', 'therapy-sidecar' );
		case 'form_expired':
		case 'token_expired':
		case 'invalid_form_token':
		case 'invalid_token':
		case 'bad_form_token':
		case 'csrf':
			return __( 'This form has expired. Please fill it in again.', 'therapy-sidecar' );
		case 'email_exists':
		case 'email_taken':
		case 'account_exists':
		case 'existing_user_email':
		case 'login_required':
			return __( 'An account with this e-mail address already exists. Please log in first, then register for the group.', 'therapy-sidecar' );
		case 'already_registered':
		case 'already_booked':
		case 'duplicate':
			return __( 'You are already registered for this group.', 'therapy-sidecar' );
		case 'registration_in_progress':
			return __( 'You already started a registration for this group. Finish paying in the window where you started it, or try again in about half an hour.', 'therapy-sidecar' );
		case 'group_full':
		case 'therapy_group_full':
			return __( 'Sorry, this group is full.', 'therapy-sidecar' );
		case 'group_closed':
		case 'therapy_group_closed':
			return __( 'Registration for this group is closed.', 'therapy-sidecar' );
		case 'group_not_found':
		case 'unknown_group':
		case 'therapy_group_not_found':
			return __( 'This group could not be found.', 'therapy-sidecar' );
		case 'rate_limited':
		case 'too_many_requests':
			return __( 'Too many attempts. Please wait a minute and try again.', 'therapy-sidecar' );
		case 'credentials_unavailable':
		case 'wordpress_unavailable':
		case 'payment_unavailable':
		case 'payment_provider_unavailable':
		case 'service_unavailable':
		case 'unavailable':
			return __( 'Online payment is temporarily unavailable. Please try again in a few minutes.', 'therapy-sidecar' );
		case 'payment_declined':
			return __( 'Your payment was declined and you have not been charged. Please try again or use another card.', 'therapy-sidecar' );
		case 'payment_cancelled':
			return __( 'The payment was cancelled and you have not been charged.', 'therapy-sidecar' );
		case 'payment_error':
			return __( 'The payment could not be completed. Please try again.', 'therapy-sidecar' );
		case 'retry_hold_ended':
			return __( 'The place held for you was released because the payment did not go through in time. Your details are filled in: please check them and continue to payment again.', 'therapy-sidecar' );
		default:
			return __( 'Something went wrong with your registration. Please check the form and try again.', 'therapy-sidecar' );
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
		$out = notice_html( __( 'Online registration is not available right now. Please try again later.', 'therapy-sidecar' ), 'error' );
		if ( current_user_can( 'manage_options' ) ) {
			/* translators: %d: the shortest shared secret the plugin and the sidecar accept. */
			$notice = __( 'Administrators: define THERAPY_SIDECAR_SHARED_SECRET (at least %d characters) in wp-config.php.', 'therapy-sidecar' );
			$out   .= notice_html( sprintf( $notice, MIN_SECRET_LENGTH ), 'error' );
		}
		return wrap_markup( $out );
	}
	$group = get_group_info( $group_id );
	if ( null === $group ) {
		return wrap_markup( notice_html( __( 'This group could not be found.', 'therapy-sidecar' ), 'error' ) );
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
		return wrap_markup( $out . notice_html( __( 'Registration for this group is closed.', 'therapy-sidecar' ), 'info' ) );
	}
	$seats = sidecar_seats( (int) $group['id'] );
	if ( null !== $seats && 0 === $seats['left'] && $seats['held_now'] > 0 && $seats['next_release_at'] > 0 ) {
		// Rounded up to the minute: a place frees up when its hold ends, not before. In the site's
		// timezone (Settings > General), as the buyer reads the site's other times.
		$after = (string) wp_date( 'H:i', (int) ( ceil( $seats['next_release_at'] / 60 ) * 60 ) );
		/* translators: %s: a time of day, HH:MM in the site's timezone. */
		$held = __( 'All places are being paid for right now; try again after %s.', 'therapy-sidecar' );
		return wrap_markup( $out . notice_html( sprintf( $held, $after ), 'info' ) );
	}
	if ( null !== $seats ? 0 === $seats['left'] : group_is_full( $group ) ) {
		return wrap_markup( $out . notice_html( __( 'Sorry, this group is full.', 'therapy-sidecar' ), 'info' ) );
	}
	$seats_left = null !== $seats ? $seats['left'] : max( 0, (int) $group['capacity'] - (int) $group['seats_taken'] );

	$user      = wp_get_current_user();
	$logged_in = $user->exists();
	$action    = sidecar_url() . '/therapy/checkout';
	$uid       = wp_unique_id( 'therapy-sidecar-form-' );
	// What the buyer typed before the sidecar sent the form back (draft.php); never the password.
	$draft = form_draft( (int) $group['id'] );

	$input = static function ( string $name, string $label, string $type, string $value, array $extra = array() ) use ( $uid, $field ): string {
		$id    = $uid . '-' . $name;
		$attrs = '';
		foreach ( $extra as $attr => $attr_value ) {
			$attrs .= true === $attr_value ? ' ' . $attr : sprintf( ' %s="%s"', $attr, esc_attr( (string) $attr_value ) );
		}
		if ( $name === $field ) {
			$attrs .= ' aria-invalid="true" autofocus';
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
	// The buyer's language: the sidecar keeps it on the registration for its pages, PayTabs' and the e-mails.
	$out .= sprintf( '<input type="hidden" name="locale" value="%s">', esc_attr( determine_locale() ) );
	// Where the sidecar sends the buyer back with an error: this very page, query included (the
	// browser's Referer carries only the origin across sites). The sidecar accepts only this site.
	$here = remove_query_arg(
		array( 'error', 'field' ),
		add_query_arg( urlencode_deep( wp_unslash( $_GET ) ), (string) get_permalink() ) // No nonce: the page's own query, sent back as the form's return address.
	);
	$out .= sprintf( '<input type="hidden" name="form_url" value="%s">', esc_attr( $here ) );

	$out .= $input( 'first_name', __( 'First name', 'therapy-sidecar' ), 'text', $draft['first_name'] ?? ( $logged_in ? (string) $user->first_name : '' ), array( 'required' => true, 'autocomplete' => 'given-name', 'maxlength' => 100 ) );
	$out .= $input( 'last_name', __( 'Last name', 'therapy-sidecar' ), 'text', $draft['last_name'] ?? ( $logged_in ? (string) $user->last_name : '' ), array( 'required' => true, 'autocomplete' => 'family-name', 'maxlength' => 100 ) );
	// E-mail addresses and phone numbers read left to right, in an Arabic form too.
	$email_extra = array( 'required' => true, 'autocomplete' => 'email', 'maxlength' => 100, 'dir' => 'ltr' );
	if ( $logged_in ) {
		$email_extra['readonly'] = true; // The sidecar takes a logged-in buyer's e-mail from the form token.
	}
	$out .= $input( 'email', __( 'E-mail address', 'therapy-sidecar' ), 'email', $logged_in ? (string) $user->user_email : ( $draft['email'] ?? '' ), $email_extra );
	$out .= $input( 'phone', __( 'Phone number', 'therapy-sidecar' ), 'tel', $draft['phone'] ?? '', array( 'required' => true, 'autocomplete' => 'tel', 'maxlength' => 32, 'dir' => 'ltr' ) );
	$out .= $input( 'street1', __( 'Street address', 'therapy-sidecar' ), 'text', $draft['street1'] ?? '', array( 'required' => true, 'autocomplete' => 'address-line1', 'maxlength' => 200 ) );
	$out .= $input( 'city', __( 'City', 'therapy-sidecar' ), 'text', $draft['city'] ?? '', array( 'required' => true, 'autocomplete' => 'address-level2', 'maxlength' => 100 ) );

	$options = '';
	$chosen = isset( $draft['country'], form_countries()[ $draft['country'] ] ) ? $draft['country'] : 'SA';
	foreach ( form_countries() as $code => $name ) {
		$options .= sprintf( '<option value="%1$s"%3$s>%2$s</option>', esc_attr( $code ), esc_html( $name ), selected( $chosen, $code, false ) );
	}
	$out .= sprintf(
		'<p class="therapy-sidecar-field therapy-sidecar-field--country%4$s"><label for="%1$s-country">%2$s</label> <select id="%1$s-country" name="country" required autocomplete="country"%5$s>%3$s</select></p>',
		esc_attr( $uid ),
		esc_html__( 'Country', 'therapy-sidecar' ),
		$options,
		'country' === $field ? ' therapy-sidecar-field--invalid' : '',
		'country' === $field ? ' aria-invalid="true" autofocus' : ''
	);

	if ( ! $logged_in ) {
		$out .= $input( 'password', __( 'Password (optional: leave empty and we will e-mail you a link to set one)', 'therapy-sidecar' ), 'password', '', array( 'autocomplete' => 'new-password', 'minlength' => 8, 'maxlength' => 200 ) );
	}
	$out .= sprintf(
		'<p class="therapy-sidecar-form__submit"><button type="submit">%s</button></p></form>',
		/* translators: 1: the price, such as "150.00", 2: its currency, such as "SAR". */
		esc_html( sprintf( __( 'Continue to payment (%1$s %2$s)', 'therapy-sidecar' ), $group['price'], $group['currency'] ) )
	);
	return wrap_markup( $out );
}
