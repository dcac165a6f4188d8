<?php
/**
 * Therapy group information.
 *
 * How a site defines its groups (WP-CLI and PHP examples, the filter, the pages) is documented in
 * docs/operations.md, section 4.4; tests/realwp/test_docs_groups.py applies those examples.
 *
 * Default source: the option `therapy_sidecar_groups`, an array keyed by group id:
 *
 *   array(
 *     101 => array(
 *       'name'             => 'Anxiety support group',
 *       'price'            => '150.00',            // string or number, major units
 *       'currency'         => 'SAR',
 *       'capacity'         => 12,
 *       'open'             => true,
 *       'bp_group_id'      => 7,                   // BuddyPress group to join after payment
 *       'registration_url' => 'https://…',         // optional, default home_url('/therapy-registration/')
 *       'status_url'       => 'https://…',         // optional, default home_url('/therapy-registration-status/')
 *       'thank_you_url'    => 'https://…',         // optional, default home_url('/thank-you/')
 *       // Optional: the session, for the receipt's date and its "Add to calendar" entry.
 *       'starts_at'        => '2027-01-10 18:30',  // ISO 8601 with offset, or local time in 'timezone'
 *       'timezone'         => 'Asia/Riyadh',       // optional, default the site's timezone
 *       'duration_minutes' => 90,                  // optional, default 60
 *       'location'         => 'Room 2, Olaya St',  // optional
 *     ),
 *   )
 *
 * A site maps its existing therapy data instead with
 *   add_filter( 'therapy_sidecar_group_info', function ( $info, $group_id ) { … return $info; }, 10, 2 );
 * ($info is the default-source array or null; return null for "no such group"), and may count seats
 * its own way with the filter `therapy_sidecar_seats_taken` ($count, $group_id).
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

const GROUPS_OPTION = 'therapy_sidecar_groups';

/** Currencies whose minor unit is not 1/100. */
const CURRENCY_DECIMALS = array(
	'BHD' => 3,
	'IQD' => 3,
	'JOD' => 3,
	'KWD' => 3,
	'LYD' => 3,
	'OMR' => 3,
	'TND' => 3,
	'JPY' => 0,
	'KRW' => 0,
);

function default_registration_url(): string {
	return home_url( '/therapy-registration/' );
}

function default_status_url(): string {
	return home_url( '/therapy-registration-status/' );
}

function default_thank_you_url(): string {
	return home_url( '/thank-you/' );
}

/**
 * The group as the API returns it, or null when the group is unknown.
 *
 * @return array<string, mixed>|null
 */
function get_group_info( int $group_id ): ?array {
	if ( $group_id <= 0 ) {
		return null;
	}
	$groups = get_option( GROUPS_OPTION, array() );
	$info   = ( is_array( $groups ) && isset( $groups[ $group_id ] ) && is_array( $groups[ $group_id ] ) )
		? normalize_group( $group_id, $groups[ $group_id ] )
		: null;

	/**
	 * Filters a therapy group's information.
	 *
	 * @param array|null $info     Info from the option therapy_sidecar_groups, or null.
	 * @param int        $group_id Group id.
	 */
	$info = apply_filters( 'therapy_sidecar_group_info', $info, $group_id );
	if ( ! is_array( $info ) ) {
		return null;
	}
	$info                = normalize_group( $group_id, $info );
	$info['seats_taken'] = seats_taken( $group_id );
	return $info;
}

/**
 * Fills defaults and fixes the types of a group array.
 *
 * @param array<string, mixed> $raw Group data.
 * @return array<string, mixed>
 */
function normalize_group( int $group_id, array $raw ): array {
	$currency = strtoupper( trim( (string) ( $raw['currency'] ?? 'SAR' ) ) );
	if ( ! preg_match( '/^[A-Z]{3}$/', $currency ) ) {
		$currency = 'SAR';
	}
	$url = static function ( $value, string $default ): string {
		$value = is_string( $value ) ? esc_url_raw( trim( $value ) ) : '';
		return '' !== $value ? $value : $default;
	};
	return array(
		'id'               => $group_id,
		'name'             => '' !== trim( (string) ( $raw['name'] ?? '' ) ) ? trim( (string) $raw['name'] ) : sprintf( 'Group %d', $group_id ),
		'price'            => format_price( $raw['price'] ?? '0', $currency ),
		'currency'         => $currency,
		'capacity'         => max( 0, (int) ( $raw['capacity'] ?? 0 ) ),
		'seats_taken'      => 0,
		'open'             => array_key_exists( 'open', $raw ) ? wp_validate_boolean( $raw['open'] ) : true,
		'bp_group_id'      => max( 0, (int) ( $raw['bp_group_id'] ?? 0 ) ),
		'registration_url' => $url( $raw['registration_url'] ?? '', default_registration_url() ),
		'status_url'       => $url( $raw['status_url'] ?? '', default_status_url() ),
		'thank_you_url'    => $url( $raw['thank_you_url'] ?? '', default_thank_you_url() ),
		'schedule'         => normalize_schedule( $raw ),
	);
}

/**
 * The group's session as the API returns it ("schedule"), or null when it has no valid start.
 * Reads the flat option fields, or an already normalised "schedule" array (from the filter).
 *
 * @param array<string, mixed> $raw Group data.
 * @return array{starts_at: string, timezone: string, duration_minutes: int, location: string}|null
 */
function normalize_schedule( array $raw ): ?array {
	$src   = isset( $raw['schedule'] ) && is_array( $raw['schedule'] ) ? $raw['schedule'] : $raw;
	$start = isset( $src['starts_at'] ) && is_string( $src['starts_at'] ) ? trim( $src['starts_at'] ) : '';
	if ( '' === $start ) {
		return null;
	}
	$zone_name = isset( $src['timezone'] ) && is_string( $src['timezone'] ) && '' !== trim( $src['timezone'] )
		? trim( $src['timezone'] )
		: wp_timezone_string();
	try {
		$zone = new \DateTimeZone( $zone_name );
		// A start with its own offset keeps its instant; a local time is read in the zone.
		$when = ( new \DateTimeImmutable( $start, $zone ) )->setTimezone( $zone );
	} catch ( \Exception $e ) {
		return null; // An unreadable time or zone: the group is shown without a session.
	}
	return array(
		'starts_at'        => $when->format( 'c' ),
		'timezone'         => $zone->getName(),
		'duration_minutes' => max( 1, min( 24 * 60, (int) ( $src['duration_minutes'] ?? 60 ) ) ),
		'location'         => sanitize_text_field( (string) ( $src['location'] ?? '' ) ),
	);
}

/**
 * "150" / 150 / "150.5" -> "150.00" (3 decimals for KWD etc.).
 *
 * @param mixed $price Price in major units.
 */
function format_price( $price, string $currency ): string {
	$decimals = CURRENCY_DECIMALS[ $currency ] ?? 2;
	if ( is_string( $price ) ) {
		$price = trim( $price );
	}
	if ( ! is_numeric( $price ) || (float) $price < 0 ) {
		$price = 0;
	}
	return number_format( (float) $price, $decimals, '.', '' );
}

/**
 * Seats taken in a group: bookings in the plugin table, through the filter therapy_sidecar_seats_taken.
 */
function seats_taken( int $group_id ): int {
	global $wpdb;
	$count = 0;
	if ( ensure_schema() ) {
		$count = (int) $wpdb->get_var(
			$wpdb->prepare( 'SELECT COUNT(*) FROM ' . table( 'bookings' ) . ' WHERE group_id = %d', $group_id ) // Only the table name is concatenated (from table()); values go through prepare().
		);
	}
	/**
	 * Filters the number of seats taken in a therapy group.
	 *
	 * @param int $count    Bookings recorded by the sidecar bridge.
	 * @param int $group_id Group id.
	 */
	return max( 0, (int) apply_filters( 'therapy_sidecar_seats_taken', $count, $group_id ) );
}

function group_is_full( array $info ): bool {
	return (int) $info['seats_taken'] >= (int) $info['capacity'];
}
