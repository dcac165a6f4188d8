<?php
/**
 * Plugin Name: Therapy test mailbox (TESTS ONLY)
 * Description: TEST-ONLY. Captures every wp_mail() into the table {prefix}therapy_test_mailbox instead of sending it. Installed by .ci/wordpress-setup.sh; never install it on a real site. Active only when the environment type is "local".
 *
 * A recipient address containing "+fail@" is refused (wp_mail() returns false), so that tests can
 * exercise the "mail could not be sent" path.
 */

defined( 'ABSPATH' ) || exit;

add_filter(
	'pre_wp_mail',
	static function ( $result, $atts ) {
		if ( null !== $result || 'local' !== wp_get_environment_type() ) {
			return $result;
		}
		global $wpdb;
		$to      = is_array( $atts['to'] ) ? implode( ', ', $atts['to'] ) : (string) $atts['to'];
		$headers = is_array( $atts['headers'] ) ? implode( "\n", $atts['headers'] ) : (string) $atts['headers'];
		if ( str_contains( $to, '+fail@' ) ) {
			return false;
		}
		$ok = $wpdb->insert(
			$wpdb->prefix . 'therapy_test_mailbox',
			array(
				'to_addr'    => $to,
				'subject'    => (string) $atts['subject'],
				'message'    => (string) $atts['message'],
				'headers'    => $headers,
				'created_at' => gmdate( 'Y-m-d H:i:s' ),
			)
		);
		return false !== $ok ? true : null;
	},
	10,
	2
);
