<?php
/**
 * Plugin Name: Therapy test hook recorder (TESTS ONLY)
 * Description: TEST-ONLY. Records each call of the bridge's action therapy_sidecar_booking_cancelled in the option therapy_test_cancelled_<intent_ref> (a JSON list of {booking, group_info}), so that the tests can see the action fire without a site of their own. Installed by .ci/wordpress-setup.sh; never install it on a real site. Active only when the environment type is "local".
 *
 * A booking whose intent_ref contains "hookfail" makes the recorder throw after recording, so that
 * the tests can check that a failing site hook does not turn the cancellation into an error.
 */

defined( 'ABSPATH' ) || exit;

add_action(
	'therapy_sidecar_booking_cancelled',
	static function ( $booking, $group_info ) {
		if ( 'local' !== wp_get_environment_type() ) {
			return;
		}
		$ref   = (string) ( $booking['intent_ref'] ?? '' );
		$name  = 'therapy_test_cancelled_' . $ref;
		$calls = json_decode( (string) get_option( $name, '[]' ), true );
		$calls = is_array( $calls ) ? $calls : array();

		$calls[] = array(
			'booking'    => $booking,
			'group_info' => $group_info,
		);
		update_option( $name, wp_json_encode( $calls ), false );
		if ( str_contains( $ref, 'hookfail' ) ) {
			throw new RuntimeException( 'the test recorder fails on purpose' );
		}
	},
	10,
	2
);
