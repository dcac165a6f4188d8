<?php
/**
 * E-mails the sidecar asks WordPress to send, once per (template, intent_ref).
 *
 * Templates:
 *   new_user          WordPress's own "set your password" mail: wp_new_user_notification( $uid, null, 'user' )
 *   booking_confirmed to the buyer; off when the filter therapy_sidecar_send_booking_email returns false
 *   refunded          to the buyer
 *   cancelled         to the buyer: the registration was cancelled and refunded (data: group_name,
 *                     amount, currency); the account stays
 *   alert             to get_option( 'admin_email' )
 *
 * Subject and body pass through the filter therapy_sidecar_email ( $mail, $template, $context ).
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

const EMAIL_TEMPLATES = array( 'new_user', 'booking_confirmed', 'refunded', 'cancelled', 'alert' );

/**
 * Sends (or skips) one e-mail.
 *
 * @param array<string, mixed> $args template, intent_ref, user_id (int|null), to (string|null), data (array).
 * @return array{sent: bool, reason?: string}|\WP_Error  'sent' false with reason already_sent|disabled.
 */
function send_template_email( array $args ) {
	global $wpdb;
	if ( ! ensure_schema() ) {
		return schema_error();
	}
	$template   = (string) $args['template'];
	$intent_ref = (string) $args['intent_ref'];
	$data       = is_array( $args['data'] ?? null ) ? $args['data'] : array();
	$user       = ! empty( $args['user_id'] ) ? get_userdata( (int) $args['user_id'] ) : false;
	if ( ! empty( $args['user_id'] ) && ! $user ) {
		return new \WP_Error( 'therapy_user_not_found', 'No such user.', array( 'status' => 404 ) );
	}

	$booking = find_booking_by_ref( $intent_ref );
	$group   = null;
	if ( $booking ) {
		$group = get_group_info( (int) $booking['group_id'] );
	} elseif ( isset( $data['group_id'] ) ) {
		$group = get_group_info( (int) $data['group_id'] );
	}
	$context = array(
		'intent_ref' => $intent_ref,
		'user'       => $user ?: null,
		'booking'    => $booking,
		'group'      => $group,
		'data'       => $data,
	);

	if ( 'booking_confirmed' === $template ) {
		/**
		 * Return false to turn the bridge's booking confirmation off (for sites whose booking code
		 * already sends one).
		 *
		 * @param bool  $send    Default true.
		 * @param array $context intent_ref, user, booking, group, data.
		 */
		if ( ! apply_filters( 'therapy_sidecar_send_booking_email', true, $context ) ) {
			return array(
				'sent'   => false,
				'reason' => 'disabled',
			);
		}
	}

	$mail = null;
	if ( 'new_user' === $template ) {
		if ( ! $user ) {
			return new \WP_Error( 'therapy_missing_user', 'new_user needs user_id.', array( 'status' => 400 ) );
		}
		$recipient = (string) $user->user_email;
	} else {
		// In the buyer's language, whatever the site's (the staff's alert: the site's language).
		$mail = in_locale(
			mail_locale( $template, $args, $user ?: null ),
			static function () use ( $template, $args, $context ) {
				return build_mail( $template, $args, $context );
			}
		);
		if ( is_wp_error( $mail ) ) {
			return $mail;
		}
		$recipient = $mail['to'];
	}

	// Claim (template, intent_ref) first: the unique key makes a repeat a no-op.
	$claimed = $wpdb->query(
		$wpdb->prepare(
			'INSERT IGNORE INTO ' . table( 'emails' ) . ' (template, intent_ref, user_id, recipient, sent_at) VALUES (%s, %s, %d, %s, %s)', // Only the table name is concatenated (from table()); values go through prepare().
			$template,
			$intent_ref,
			$user ? (int) $user->ID : 0,
			substr( $recipient, 0, 200 ),
			db_now()
		)
	);
	if ( false === $claimed ) {
		return new \WP_Error( 'therapy_sidecar_db_error', 'The e-mail could not be recorded.', array( 'status' => 500 ) );
	}
	if ( 0 === (int) $claimed ) {
		return array(
			'sent'   => false,
			'reason' => 'already_sent',
		);
	}

	$ok = 'new_user' === $template
		? send_new_user_notification( (int) $user->ID )
		: wp_mail( $mail['to'], $mail['subject'], $mail['message'], $mail['headers'] );

	if ( ! $ok ) {
		// Release the claim so that the sidecar's retry can send it.
		$wpdb->delete( table( 'emails' ), array( 'template' => $template, 'intent_ref' => $intent_ref ), array( '%s', '%s' ) );
		return new \WP_Error( 'therapy_email_failed', 'WordPress could not send the e-mail.', array( 'status' => 503 ) );
	}
	return array( 'sent' => true );
}

/**
 * The WordPress locale an e-mail is written in: the one the sidecar asks for (locale "ar", "en"),
 * else the user's, else the site's. The alert goes to the site's staff: the site's.
 *
 * @param array<string, mixed> $args Request arguments (locale).
 */
function mail_locale( string $template, array $args, ?\WP_User $user ): string {
	if ( 'alert' === $template ) {
		return get_locale();
	}
	$asked = wp_locale_for( is_string( $args['locale'] ?? null ) ? $args['locale'] : '' );
	if ( '' !== $asked ) {
		return $asked;
	}
	return $user ? get_user_locale( $user ) : get_locale();
}

/**
 * wp_new_user_notification() returns nothing; watch wp_mail for a failure while it runs.
 */
function send_new_user_notification( int $user_id ): bool {
	$failed   = false;
	$on_fail  = static function () use ( &$failed ) {
		$failed = true;
	};
	$on_short = static function ( $result ) use ( &$failed ) {
		if ( false === $result ) {
			$failed = true; // A pre_wp_mail handler refused the message.
		}
		return $result;
	};
	add_action( 'wp_mail_failed', $on_fail );
	add_filter( 'pre_wp_mail', $on_short, PHP_INT_MAX );
	try {
		wp_new_user_notification( $user_id, null, 'user' );
	} finally {
		remove_action( 'wp_mail_failed', $on_fail );
		remove_filter( 'pre_wp_mail', $on_short, PHP_INT_MAX );
	}
	return ! $failed;
}

/**
 * Plain-text mails for booking_confirmed, refunded, cancelled and alert.
 *
 * @param array<string, mixed> $args    Request arguments.
 * @param array<string, mixed> $context intent_ref, user, booking, group, data.
 * @return array{to: string, subject: string, message: string, headers: array<int, string>}|\WP_Error
 */
function build_mail( string $template, array $args, array $context ) {
	$site  = wp_specialchars_decode( (string) get_option( 'blogname' ), ENT_QUOTES );
	$user  = $context['user'];
	$data  = $context['data'];
	$group = $context['group'];
	$name  = $group['name'] ?? ( isset( $data['group_name'] ) ? (string) $data['group_name'] : __( 'your therapy group', 'therapy-sidecar' ) );
	$hello = ( $user && '' !== trim( (string) $user->first_name ) )
		/* translators: %s: the buyer's first name. */
		? sprintf( __( 'Hello %s,', 'therapy-sidecar' ), $user->first_name )
		: __( 'Hello,', 'therapy-sidecar' );

	if ( 'alert' === $template ) {
		$to = (string) get_option( 'admin_email' );
	} else {
		$to = '';
		if ( ! empty( $args['to'] ) && is_email( (string) $args['to'] ) ) {
			$to = (string) $args['to'];
		} elseif ( $user ) {
			$to = (string) $user->user_email;
		}
	}
	if ( '' === $to || ! is_email( $to ) ) {
		return new \WP_Error( 'therapy_email_no_recipient', 'No valid recipient for this e-mail.', array( 'status' => 400 ) );
	}

	$ref = $context['intent_ref'];
	switch ( $template ) {
		case 'booking_confirmed':
			/* translators: 1: site name, 2: therapy group name. */
			$subject = sprintf( __( '[%1$s] Your place in %2$s is confirmed', 'therapy-sidecar' ), $site, $name );
			$lines   = array(
				$hello,
				'',
				/* translators: %s: therapy group name. */
				sprintf( __( 'Thank you for your payment. Your place in %s is confirmed.', 'therapy-sidecar' ), $name ),
				'',
			);
			// The receipt (receipt.php): what the sidecar sent, the same lines as the thank-you page.
			$lines    = array_merge( $lines, receipt_lines( $data, $group, (string) $name ) );
			$calendar = receipt_calendar_url( isset( $data['calendar_url'] ) && is_string( $data['calendar_url'] ) ? $data['calendar_url'] : '', $group );
			if ( '' !== $calendar ) {
				/* translators: %s: the address of the session's calendar entry (.ics). */
				$lines[] = sprintf( __( 'Add to calendar: %s', 'therapy-sidecar' ), $calendar );
			}
			if ( $group && ! empty( $group['thank_you_url'] ) ) {
				$lines[] = '';
				/* translators: %s: the address of the group's page. */
				$lines[] = sprintf( __( 'More information: %s', 'therapy-sidecar' ), $group['thank_you_url'] );
			}
			$lines[] = '';
			/* translators: %s: the registration's reference. */
			$lines[] = sprintf( __( 'Your reference: %s', 'therapy-sidecar' ), $ref );
			break;
		case 'refunded':
			/* translators: %s: site name. */
			$subject = sprintf( __( '[%s] Your payment has been refunded', 'therapy-sidecar' ), $site );
			$amount  = ( isset( $data['amount'], $data['currency'] ) && is_scalar( $data['amount'] ) && is_scalar( $data['currency'] ) )
				? sprintf( '%s %s', $data['amount'], $data['currency'] )
				: '';
			$lines   = array(
				$hello,
				'',
				'' !== $amount
					/* translators: 1: therapy group name, 2: amount and currency, e.g. "150.00 SAR". */
					? sprintf( __( 'We could not complete your registration for %1$s, so your payment of %2$s has been refunded.', 'therapy-sidecar' ), $name, $amount )
					/* translators: %s: therapy group name. */
					: sprintf( __( 'We could not complete your registration for %s, so your payment has been refunded.', 'therapy-sidecar' ), $name ),
				__( 'Depending on your bank, the money can take a few days to reach your account.', 'therapy-sidecar' ),
			);
			if ( ! empty( $data['reason'] ) && is_string( $data['reason'] ) ) {
				$lines[] = '';
				/* translators: %s: why the registration could not be completed. */
				$lines[] = sprintf( __( 'Reason: %s', 'therapy-sidecar' ), $data['reason'] );
			}
			$lines[] = '';
			/* translators: %s: the registration's reference. */
			$lines[] = sprintf( __( 'Your reference: %s', 'therapy-sidecar' ), $ref );
			break;
		case 'cancelled':
			// By the time the sidecar asks, the booking is gone: the group's name comes from data.
			$refund  = ( isset( $data['amount'], $data['currency'] ) && is_scalar( $data['amount'] ) && is_scalar( $data['currency'] ) )
				? sprintf( '%s %s', $data['amount'], $data['currency'] )
				: '';
			/* translators: 1: site name, 2: therapy group name. */
			$subject = sprintf( __( '[%1$s] Your registration for %2$s is cancelled', 'therapy-sidecar' ), $site, $name );
			$lines   = array(
				$hello,
				'',
				/* translators: %s: therapy group name. */
				sprintf( __( 'Your registration for %s is cancelled.', 'therapy-sidecar' ), $name ),
				'' !== $refund
					/* translators: %s: amount and currency, e.g. "150.00 SAR". */
					? sprintf( __( '%s has been refunded to you. Depending on your bank, the money can take a few days to reach your account.', 'therapy-sidecar' ), $refund )
					: __( 'Your payment has been refunded. Depending on your bank, the money can take a few days to reach your account.', 'therapy-sidecar' ),
				'',
				/* translators: %s: site name. */
				sprintf( __( 'Your account on %s stays: you can still log in, and register for a group again.', 'therapy-sidecar' ), $site ),
				'',
				/* translators: %s: the registration's reference. */
				sprintf( __( 'Your reference: %s', 'therapy-sidecar' ), $ref ),
			);
			break;
		default: // alert.
			/* translators: %s: site name. */
			$subject = sprintf( __( '[%s] Therapy registration needs attention', 'therapy-sidecar' ), $site );
			$lines   = array(
				__( 'The therapy payment sidecar reported a problem that needs a person.', 'therapy-sidecar' ),
				'',
				/* translators: %s: the registration's reference. */
				sprintf( __( 'Reference: %s', 'therapy-sidecar' ), $ref ),
			);
			if ( ! empty( $data['message'] ) && is_string( $data['message'] ) ) {
				/* translators: %s: the sidecar's message about the problem. */
				$lines[] = sprintf( __( 'Message: %s', 'therapy-sidecar' ), $data['message'] );
			}
			if ( $data ) {
				$lines[] = '';
				/* translators: %s: the problem's details, as JSON. */
				$lines[] = sprintf( __( 'Details: %s', 'therapy-sidecar' ), (string) wp_json_encode( $data, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE ) );
			}
			break;
	}
	$lines[] = '';
	$lines[] = '-- ';
	$lines[] = $site;

	$mail = array(
		'to'      => $to,
		'subject' => $subject,
		'message' => implode( "\n", $lines ) . "\n",
		'headers' => array( 'Content-Type: text/plain; charset=UTF-8' ),
	);
	/**
	 * Filters a bridge e-mail before it is sent.
	 *
	 * @param array  $mail     to, subject, message, headers.
	 * @param string $template booking_confirmed | refunded | cancelled | alert.
	 * @param array  $context  intent_ref, user, booking, group, data.
	 */
	$filtered = apply_filters( 'therapy_sidecar_email', $mail, $template, $context );
	if ( is_array( $filtered ) && isset( $filtered['to'], $filtered['subject'], $filtered['message'] ) ) {
		$mail = array_merge( $mail, $filtered );
	}
	return $mail;
}
