<?php
/**
 * The receipt: [therapy_sidecar_receipt] for the site's thank-you page, and the same lines in the
 * booking confirmation e-mail (emails.php).
 *
 * For the logged-in buyer: their latest sidecar registration (or the one of ?intent=REF, when it is
 * theirs): the group, the amount and currency, the PayTabs reference, the date of payment in the
 * site's format and timezone, the session's time and an "Add to calendar" link (the sidecar's signed
 * .ics address, stored with the booking) when the group has a schedule. Another user's ?intent=REF
 * shows nothing. Logged out, with ?intent=REF of a booked registration: "You are registered" with a
 * login link and a password link, and nothing personal; otherwise nothing.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/**
 * A UTC ISO 8601 time in the site's date and time format and timezone ('' when unreadable).
 */
function receipt_date( ?string $iso, ?\DateTimeZone $zone = null ): string {
	$ts = is_string( $iso ) && '' !== $iso ? strtotime( $iso ) : false;
	if ( false === $ts ) {
		return '';
	}
	$format = get_option( 'date_format' ) . ' ' . get_option( 'time_format' );
	return (string) wp_date( $format, $ts, $zone );
}

/**
 * The receipt's lines, as plain text: group, amount, reference, date and session.
 *
 * @param array<string, mixed>      $paid  amount, currency, tran_ref, paid_at (a booking or e-mail data).
 * @param array<string, mixed>|null $group The group as get_group_info() returns it.
 * @return array<int, string>
 */
function receipt_lines( array $paid, ?array $group, string $group_name ): array {
	$text = static function ( string $key ) use ( $paid ): string {
		return isset( $paid[ $key ] ) && is_scalar( $paid[ $key ] ) ? trim( (string) $paid[ $key ] ) : '';
	};
	/* translators: %s: therapy group name. */
	$lines = array( sprintf( __( 'Group: %s', 'therapy-sidecar' ), $group_name ) );
	if ( '' !== $text( 'amount' ) && '' !== $text( 'currency' ) ) {
		/* translators: 1: amount, e.g. "150.00", 2: currency code, e.g. "SAR". */
		$lines[] = sprintf( __( 'Amount paid: %1$s %2$s', 'therapy-sidecar' ), $text( 'amount' ), $text( 'currency' ) );
	}
	if ( '' !== $text( 'tran_ref' ) ) {
		/* translators: %s: the payment's PayTabs transaction reference. */
		$lines[] = sprintf( __( 'PayTabs reference: %s', 'therapy-sidecar' ), $text( 'tran_ref' ) );
	}
	$date = receipt_date( $text( 'paid_at' ) );
	if ( '' !== $date ) {
		/* translators: %s: date and time of the payment, in the site's format. */
		$lines[] = sprintf( __( 'Date of payment: %s', 'therapy-sidecar' ), $date );
	}
	$session = session_time( $group );
	if ( '' !== $session ) {
		/* translators: %s: date and time of the group's session. */
		$lines[] = sprintf( __( 'Session: %s', 'therapy-sidecar' ), $session );
	}
	return $lines;
}

/**
 * The session's start in the site's format, in the group's timezone ('' without a schedule).
 *
 * @param array<string, mixed>|null $group The group as get_group_info() returns it.
 */
function session_time( ?array $group ): string {
	$schedule = is_array( $group ) && is_array( $group['schedule'] ?? null ) ? $group['schedule'] : null;
	if ( null === $schedule ) {
		return '';
	}
	try {
		$zone = new \DateTimeZone( (string) $schedule['timezone'] );
	} catch ( \Exception $e ) {
		$zone = wp_timezone();
	}
	$when = receipt_date( (string) $schedule['starts_at'], $zone );
	$where = (string) ( $schedule['location'] ?? '' );
	return '' !== $where && '' !== $when ? $when . ' — ' . $where : $when;
}

/**
 * The calendar link to show: the stored .ics address when the group has a schedule, else ''.
 *
 * @param array<string, mixed>|null $group The group as get_group_info() returns it.
 */
function receipt_calendar_url( string $url, ?array $group ): string {
	if ( ! is_array( $group ) || empty( $group['schedule'] ) ) {
		return '';
	}
	return 1 === preg_match( '#^https?://#i', $url ) ? $url : '';
}

/**
 * [therapy_sidecar_receipt]
 *
 * @param array<string, string>|string $atts Shortcode attributes (none).
 */
function shortcode_receipt( $atts ): string {
	unset( $atts );
	mark_page_uncacheable();
	// No nonce: display only; the reference is checked against the pattern and the current user.
	$ref = isset( $_GET['intent'] ) && is_string( $_GET['intent'] ) ? wp_unslash( $_GET['intent'] ) : '';
	$ref = is_valid_intent_ref( $ref ) ? $ref : '';
	if ( ! is_user_logged_in() ) {
		return '' !== $ref && null !== find_booking_by_ref( $ref ) ? registered_logged_out_html( $ref ) : '';
	}
	$user_id = get_current_user_id();
	$booking = '' !== $ref ? find_booking_by_ref( $ref ) : latest_booking_of_user( $user_id );
	if ( null === $booking || (int) $booking['user_id'] !== $user_id ) {
		return ''; // Nothing, rather than someone else's receipt.
	}
	return receipt_html( $booking );
}

/**
 * The receipt box of one booking.
 *
 * @param array<string, mixed> $booking Formatted booking.
 */
function receipt_html( array $booking ): string {
	$group = get_group_info( (int) $booking['group_id'] );
	/* translators: %d: therapy group id. */
	$name  = $group['name'] ?? sprintf( __( 'Group %d', 'therapy-sidecar' ), (int) $booking['group_id'] );
	$items = '';
	foreach ( receipt_lines( $booking, $group, (string) $name ) as $line ) {
		$items .= '<li>' . esc_html( $line ) . '</li>';
	}
	$out  = '<div class="therapy-sidecar-receipt"' . dir_attributes() . '>';
	$out .= '<h2>' . esc_html__( 'Your receipt', 'therapy-sidecar' ) . '</h2><ul>' . $items . '</ul>';
	$ics  = receipt_calendar_url( (string) $booking['calendar_url'], $group );
	if ( '' !== $ics ) {
		$out .= '<p><a class="therapy-sidecar-receipt__calendar" href="' . esc_url( $ics ) . '" download>'
			. esc_html__( 'Add to calendar', 'therapy-sidecar' ) . '</a></p>';
	}
	return $out . '</div>';
}

/**
 * To a visitor not logged in who comes with a booked registration's reference: registered, and two
 * ways in (log in, or set a password); nothing personal.
 */
function registered_logged_out_html( string $ref ): string {
	$page = get_permalink();
	$here = add_query_arg( 'intent', rawurlencode( $ref ), false !== $page ? $page : home_url( '/' ) );
	return '<div class="therapy-sidecar-receipt therapy-sidecar-receipt--logged-out"' . dir_attributes() . '>'
		. notice_html( __( 'You are registered. Log in to see your receipt and your group.', 'therapy-sidecar' ) )
		. '<p class="therapy-sidecar-receipt__actions"><a class="therapy-sidecar-login" href="' . esc_url( wp_login_url( $here ) ) . '">'
		. esc_html__( 'Log in', 'therapy-sidecar' ) . '</a> · <a class="therapy-sidecar-lostpassword" href="' . esc_url( wp_lostpassword_url( $here ) ) . '">'
		. esc_html__( 'Set or reset your password', 'therapy-sidecar' ) . '</a></p></div>';
}
