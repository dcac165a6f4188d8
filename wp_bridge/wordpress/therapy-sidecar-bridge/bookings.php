<?php
/**
 * Session bookings: one row per payment intent (intent_ref UNIQUE), capacity checked under a
 * per-group MySQL named lock (GET_LOCK), then the action `therapy_sidecar_session_booked`
 * ($booking, $group_info) so the site's own booking code can hook in.
 *
 * A cancelled registration (the sidecar's cancel and refund) removes its row under the same lock,
 * then fires `therapy_sidecar_booking_cancelled` ($booking, $group_info) once, for the site's own
 * cancellation code.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/** Accepted intent references (the sidecar's intent refs). */
const INTENT_REF_PATTERN = '^[A-Za-z0-9._:-]{1,100}$';

/** Seconds to wait for the per-group lock. */
const GROUP_LOCK_TIMEOUT = 10;

function is_valid_intent_ref( $ref ): bool {
	return is_string( $ref ) && 1 === preg_match( '/' . INTENT_REF_PATTERN . '/', $ref );
}

/**
 * @param object|array<string, mixed> $row Database row.
 * @return array<string, mixed>
 */
function format_booking( $row ): array {
	$row = (array) $row;
	return array(
		'id'         => (int) $row['id'],
		'intent_ref' => (string) $row['intent_ref'],
		'group_id'   => (int) $row['group_id'],
		'user_id'      => (int) $row['user_id'],
		'created_at'   => db_time_to_iso( $row['created_at'] ?? null ),
		// What was paid, as the sidecar sent it (empty for a booking made before schema 2).
		'amount'       => (string) ( $row['amount'] ?? '' ),
		'currency'     => (string) ( $row['currency'] ?? '' ),
		'tran_ref'     => (string) ( $row['tran_ref'] ?? '' ),
		'paid_at'      => db_time_to_iso( $row['paid_at'] ?? null ),
		'calendar_url' => (string) ( $row['calendar_url'] ?? '' ),
	);
}

/**
 * The payment columns of a booking from the sidecar's POST /bookings fields (validated by the
 * route's schema); an absent field stays empty.
 *
 * @param array<string, mixed> $payment amount, currency, tran_ref, paid_at (ISO 8601), calendar_url.
 * @return array<string, string|null>
 */
function payment_columns( array $payment ): array {
	$paid = isset( $payment['paid_at'] ) && is_string( $payment['paid_at'] ) ? strtotime( $payment['paid_at'] ) : false;
	$text = static function ( string $key, int $max ) use ( $payment ): string {
		return isset( $payment[ $key ] ) && is_scalar( $payment[ $key ] ) ? substr( (string) $payment[ $key ], 0, $max ) : '';
	};
	return array(
		'amount'       => $text( 'amount', 32 ),
		'currency'     => $text( 'currency', 3 ),
		'tran_ref'     => $text( 'tran_ref', 64 ),
		'paid_at'      => false !== $paid ? gmdate( 'Y-m-d H:i:s', $paid ) : null,
		'calendar_url' => esc_url_raw( $text( 'calendar_url', 500 ), array( 'http', 'https' ) ),
	);
}

/**
 * A repeated booking call fills in payment details its row lacks (a row made before schema 2, or
 * by a caller that sent none); never overwrites what is stored.
 *
 * @param array<string, mixed> $booking Formatted booking.
 * @param array<string, mixed> $payment POST /bookings payment fields.
 * @return array<string, mixed> The booking as stored now.
 */
function fill_missing_payment( array $booking, array $payment ): array {
	global $wpdb;
	$columns = payment_columns( $payment );
	if ( '' !== $booking['tran_ref'] || '' === $columns['tran_ref'] ) {
		return $booking;
	}
	$wpdb->update( table( 'bookings' ), $columns, array( 'intent_ref' => $booking['intent_ref'] ) );
	return find_booking_by_ref( (string) $booking['intent_ref'] ) ?? $booking;
}

/**
 * The user's most recent booking, or null.
 *
 * @return array<string, mixed>|null
 */
function latest_booking_of_user( int $user_id ): ?array {
	global $wpdb;
	if ( $user_id <= 0 || ! ensure_schema() ) {
		return null;
	}
	$row = $wpdb->get_row(
		$wpdb->prepare( 'SELECT * FROM ' . table( 'bookings' ) . ' WHERE user_id = %d ORDER BY id DESC LIMIT 1', $user_id ) // Only the table name is concatenated (from table()); values go through prepare().
	);
	return $row ? format_booking( $row ) : null;
}

/**
 * @return array<string, mixed>|null
 */
function find_booking_by_ref( string $ref ): ?array {
	global $wpdb;
	if ( ! ensure_schema() ) {
		return null;
	}
	$row = $wpdb->get_row(
		$wpdb->prepare( 'SELECT * FROM ' . table( 'bookings' ) . ' WHERE intent_ref = %s', $ref ) // Only the table name is concatenated (from table()); values go through prepare().
	);
	return $row ? format_booking( $row ) : null;
}

/**
 * Bookings filtered by intent_ref and/or group_id, oldest first.
 *
 * @return array<int, array<string, mixed>>
 */
function list_bookings( ?string $intent_ref = null, ?int $group_id = null ): array {
	global $wpdb;
	if ( ! ensure_schema() ) {
		return array();
	}
	$where = array();
	$args  = array();
	if ( null !== $intent_ref ) {
		$where[] = 'intent_ref = %s';
		$args[]  = $intent_ref;
	}
	if ( null !== $group_id ) {
		$where[] = 'group_id = %d';
		$args[]  = $group_id;
	}
	$sql = 'SELECT * FROM ' . table( 'bookings' ) . ( $where ? ' WHERE ' . implode( ' AND ', $where ) : '' ) . ' ORDER BY id ASC';
	if ( $args ) {
		$sql = $wpdb->prepare( $sql, $args ); // The table name (from table()) and fixed clauses; values go through prepare().
	}
	$rows = $wpdb->get_results( $sql ); // Prepared above whenever it holds a value.
	return array_map( __NAMESPACE__ . '\\format_booking', is_array( $rows ) ? $rows : array() );
}

/** Whether the user already holds a booking in the group (under the group lock). */
function user_has_booking( int $group_id, int $user_id ): bool {
	global $wpdb;
	$found = $wpdb->get_var(
		$wpdb->prepare( 'SELECT id FROM ' . table( 'bookings' ) . ' WHERE group_id = %d AND user_id = %d LIMIT 1', $group_id, $user_id ) // Only the table name is concatenated (from table()); values go through prepare().
	);
	return null !== $found;
}

function group_lock_name( int $group_id ): string {
	global $wpdb;
	// GET_LOCK names are server-wide: scope them to this database and table prefix (max 64 chars).
	return 'therapy_sidecar_' . md5( DB_NAME . '|' . $wpdb->prefix . '|' . $group_id );
}

/**
 * Books a seat for a paid intent, with what was paid (for the receipt).
 *
 * @param array<string, mixed> $payment amount, currency, tran_ref, paid_at, calendar_url (optional).
 * @return array{booking: array<string, mixed>, created: bool}|\WP_Error
 */
function create_booking( string $intent_ref, int $group_id, int $user_id, array $payment = array() ) {
	global $wpdb;
	if ( ! ensure_schema() ) {
		return schema_error();
	}

	// Idempotency first: an intent that already has its seat keeps it, whatever happened since.
	$existing = find_booking_by_ref( $intent_ref );
	if ( $existing ) {
		return array(
			'booking' => fill_missing_payment( $existing, $payment ),
			'created' => false,
		);
	}

	$info = get_group_info( $group_id );
	if ( null === $info ) {
		return new \WP_Error( 'therapy_group_not_found', 'No such therapy group.', array( 'status' => 404 ) );
	}
	if ( ! $info['open'] ) {
		return new \WP_Error( 'therapy_group_closed', 'Registration for this group is closed.', array( 'status' => 409 ) );
	}
	if ( ! get_userdata( $user_id ) ) {
		return new \WP_Error( 'therapy_user_not_found', 'No such user.', array( 'status' => 404 ) );
	}

	$lock = group_lock_name( $group_id );
	$got  = $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', $lock, GROUP_LOCK_TIMEOUT ) );
	if ( '1' !== (string) $got ) {
		return new \WP_Error( 'therapy_group_busy', 'The group is busy, try again.', array( 'status' => 503 ) );
	}
	try {
		$existing = find_booking_by_ref( $intent_ref );
		if ( $existing ) {
			return array(
				'booking' => $existing,
				'created' => false,
			);
		}
		// One place per person: a second intent of the same user in the same group is refused
		// (the sidecar refunds it); the repeat of the same intent was answered above.
		if ( user_has_booking( $group_id, $user_id ) ) {
			return new \WP_Error(
				'therapy_already_booked',
				__( 'You are already registered for this group.', 'therapy-sidecar' ),
				array( 'status' => 409 )
			);
		}
		$taken = seats_taken( $group_id );
		if ( $taken >= (int) $info['capacity'] ) {
			return new \WP_Error(
				'therapy_group_full',
				'This therapy group is full.',
				array(
					'status'      => 409,
					'capacity'    => (int) $info['capacity'],
					'seats_taken' => $taken,
				)
			);
		}
		$inserted = $wpdb->insert(
			table( 'bookings' ),
			array(
				'intent_ref' => $intent_ref,
				'group_id'   => $group_id,
				'user_id'    => $user_id,
				'created_at' => db_now(),
			) + payment_columns( $payment ),
			array( '%s', '%d', '%d', '%s', '%s', '%s', '%s', '%s', '%s' )
		);
		if ( false === $inserted ) {
			$existing = find_booking_by_ref( $intent_ref ); // Lost a race on the same intent_ref.
			if ( $existing ) {
				return array(
					'booking' => $existing,
					'created' => false,
				);
			}
			return new \WP_Error( 'therapy_sidecar_db_error', 'The booking could not be saved.', array( 'status' => 500 ) );
		}
		$booking = find_booking_by_ref( $intent_ref );
	} finally {
		$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
	}
	if ( null === $booking ) {
		return new \WP_Error( 'therapy_sidecar_db_error', 'The booking could not be read back.', array( 'status' => 500 ) );
	}

	$info['seats_taken'] = $taken + 1;
	try {
		/**
		 * Fires once when a paid intent has booked its seat, after the lock is released.
		 *
		 * @param array $booking    {id, intent_ref, group_id, user_id, created_at}.
		 * @param array $group_info The group as GET /groups/<id> returns it.
		 */
		do_action( 'therapy_sidecar_session_booked', $booking, $info );
	} catch ( \Throwable $e ) {
		// The seat is booked; a failing site hook must not turn that into an error the sidecar retries.
		error_log( 'therapy_sidecar_session_booked hook failed for ' . $intent_ref . ': ' . $e->getMessage() ); // phpcs:ignore Generic.PHP.ForbiddenFunctions.Found -- the site's PHP error log is the one place left to tell.
	}
	return array(
		'booking' => $booking,
		'created' => true,
	);
}

/**
 * Removes the booking of a cancelled intent. Idempotent: a booking already gone answers
 * cancelled=false, and the action fires only for the call that removed the row.
 *
 * @return array{cancelled: bool, intent_ref: string, booking: array<string, mixed>|null}|\WP_Error
 */
function cancel_booking( string $intent_ref ) {
	global $wpdb;
	if ( ! ensure_schema() ) {
		return schema_error();
	}
	$gone = array(
		'cancelled'  => false,
		'intent_ref' => $intent_ref,
		'booking'    => null,
	);

	$booking = find_booking_by_ref( $intent_ref );
	if ( null === $booking ) {
		return $gone;
	}

	// The same lock as create_booking: a seat freed here is never counted twice by a booking that
	// checks the group's capacity at the same moment.
	$group_id = (int) $booking['group_id'];
	$lock     = group_lock_name( $group_id );
	$got      = $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', $lock, GROUP_LOCK_TIMEOUT ) );
	if ( '1' !== (string) $got ) {
		return new \WP_Error( 'therapy_group_busy', 'The group is busy, try again.', array( 'status' => 503 ) );
	}
	try {
		$deleted = $wpdb->delete( table( 'bookings' ), array( 'intent_ref' => $intent_ref ), array( '%s' ) );
	} finally {
		$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
	}
	if ( false === $deleted ) {
		return new \WP_Error( 'therapy_sidecar_db_error', 'The booking could not be removed.', array( 'status' => 500 ) );
	}
	if ( 0 === (int) $deleted ) {
		return $gone; // Another call removed it between the look-up and the lock; that one fired the action.
	}

	$info = get_group_info( $group_id ); // Read after the removal: seats_taken no longer counts it.
	try {
		/**
		 * Fires once when the booking of a cancelled registration has been removed, after the lock
		 * is released (the sidecar then removes the BuddyPress membership and refunds).
		 *
		 * @param array      $booking    {id, intent_ref, group_id, user_id, created_at} as it was.
		 * @param array|null $group_info The group as GET /groups/<id> returns it, or null when the
		 *                               group is no longer defined.
		 */
		do_action( 'therapy_sidecar_booking_cancelled', $booking, $info );
	} catch ( \Throwable $e ) {
		// The booking is gone; a failing site hook must not turn that into an error the sidecar retries.
		error_log( 'therapy_sidecar_booking_cancelled hook failed for ' . $intent_ref . ': ' . $e->getMessage() ); // phpcs:ignore Generic.PHP.ForbiddenFunctions.Found -- the site's PHP error log is the one place left to tell.
	}
	return array(
		'cancelled'  => true,
		'intent_ref' => $intent_ref,
		'booking'    => $booking,
	);
}
