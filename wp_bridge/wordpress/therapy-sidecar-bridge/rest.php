<?php
/**
 * REST routes (namespace therapy-sidecar/v1) and the intent user meta. See docs/contracts.md.
 * The hooks that call them are wired in therapy-sidecar-bridge.php.
 *
 *   GET  /groups/<id>                         manage_options
 *   POST /bookings {intent_ref,group_id,user_id,amount?,currency?,tran_ref?,paid_at?,calendar_url?}  manage_options
 *   GET  /bookings ?intent_ref= | ?group_id=   manage_options
 *   POST /bookings/cancel {intent_ref}         manage_options
 *   POST /emails {template,intent_ref,user_id?,to?,data?}  manage_options
 *   GET  /login ?grant=                         a valid one-time login grant
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

const REST_NAMESPACE = 'therapy-sidecar/v1';
const INTENT_META    = 'therapy_sidecar_intent';

/**
 * init (priority 5; wired in therapy-sidecar-bridge.php): the intent user meta, and the plugin's tables.
 */
function on_init(): void {
	register_meta(
		'user',
		INTENT_META,
		array(
			'type'              => 'string',
			'description'       => 'The Therapy Pay Sidecar intent that created this user.',
			'single'            => true,
			'default'           => '',
			'show_in_rest'      => true,
			'sanitize_callback' => 'sanitize_text_field',
			'auth_callback'     => static function (): bool {
				return current_user_can( 'edit_users' );
			},
		)
	);
	if ( ! wp_installing() ) {
		ensure_schema();
	}
}

/**
 * Permission of the sidecar's routes: the application-password user must be able to manage options.
 */
function can_manage(): bool {
	return current_user_can( 'manage_options' );
}

/**
 * POST /bookings' optional payment fields (the receipt), each checked before the booking is made.
 *
 * @return array<string, array<string, mixed>>
 */
function payment_args(): array {
	return array(
		'amount'       => array(
			'type'    => 'string',
			'pattern' => '^[0-9]{1,12}([.][0-9]{1,3})?$',
		),
		'currency'     => array(
			'type'    => 'string',
			'pattern' => '^[A-Z]{3}$',
		),
		'tran_ref'     => array(
			'type'    => 'string',
			'pattern' => '^[A-Za-z0-9._-]{1,64}$',
		),
		'paid_at'      => array(
			'type'   => 'string',
			'format' => 'date-time',
		),
		// Core checks no "uri" format: an http(s) address without spaces, quotes or angle brackets.
		'calendar_url' => array(
			'type'      => 'string',
			'pattern'   => '^https?://[^\\s<>"\']+$',
			'maxLength' => 500,
		),
	);
}

function register_routes(): void {
	$id_arg = array(
		'type'     => 'integer',
		'minimum'  => 1,
		'required' => true,
	);
	$ref_arg = array(
		'type'     => 'string',
		'pattern'  => INTENT_REF_PATTERN,
		'required' => true,
	);

	register_rest_route(
		REST_NAMESPACE,
		'/groups/(?P<id>\d+)',
		array(
			'methods'             => \WP_REST_Server::READABLE,
			'callback'            => __NAMESPACE__ . '\\rest_get_group',
			'permission_callback' => __NAMESPACE__ . '\\can_manage',
			'args'                => array( 'id' => $id_arg ),
		)
	);

	register_rest_route(
		REST_NAMESPACE,
		'/bookings',
		array(
			array(
				'methods'             => \WP_REST_Server::CREATABLE,
				'callback'            => __NAMESPACE__ . '\\rest_create_booking',
				'permission_callback' => __NAMESPACE__ . '\\can_manage',
				'args'                => array(
					'intent_ref' => $ref_arg,
					'group_id'   => $id_arg,
					'user_id'    => $id_arg,
				) + payment_args(),
			),
			array(
				'methods'             => \WP_REST_Server::READABLE,
				'callback'            => __NAMESPACE__ . '\\rest_list_bookings',
				'permission_callback' => __NAMESPACE__ . '\\can_manage',
				'args'                => array(
					'intent_ref' => array_merge( $ref_arg, array( 'required' => false ) ),
					'group_id'   => array_merge( $id_arg, array( 'required' => false ) ),
				),
			),
		)
	);

	register_rest_route(
		REST_NAMESPACE,
		'/bookings/cancel',
		array(
			'methods'             => \WP_REST_Server::CREATABLE,
			'callback'            => __NAMESPACE__ . '\\rest_cancel_booking',
			'permission_callback' => __NAMESPACE__ . '\\can_manage',
			'args'                => array( 'intent_ref' => $ref_arg ),
		)
	);

	register_rest_route(
		REST_NAMESPACE,
		'/emails',
		array(
			'methods'             => \WP_REST_Server::CREATABLE,
			'callback'            => __NAMESPACE__ . '\\rest_send_email',
			'permission_callback' => __NAMESPACE__ . '\\can_manage',
			'args'                => array(
				'template'   => array(
					'type'     => 'string',
					'enum'     => EMAIL_TEMPLATES,
					'required' => true,
				),
				'intent_ref' => $ref_arg,
				'user_id'    => array(
					'type'    => array( 'integer', 'null' ),
					'minimum' => 1,
				),
				'to'         => array(
					'type'   => array( 'string', 'null' ),
					'format' => 'email',
				),
				'data'       => array(
					'type' => array( 'object', 'null' ),
				),
				// The buyer's language ("ar", "en" or a WordPress locale such as "ar" or "en_US").
				'locale'     => array(
					'type'    => array( 'string', 'null' ),
					'pattern' => '^[a-z]{2,3}([_-][A-Za-z]{2,4})?$',
				),
			),
		)
	);

	register_rest_route(
		REST_NAMESPACE,
		'/login',
		array(
			'methods'             => \WP_REST_Server::READABLE,
			'callback'            => __NAMESPACE__ . '\\rest_login',
			'permission_callback' => __NAMESPACE__ . '\\login_permission',
			'args'                => array(
				'grant' => array(
					'type'      => 'string',
					'required'  => true,
					'maxLength' => MAX_TOKEN_LENGTH,
				),
			),
		)
	);
}

/**
 * GET /groups/<id>
 *
 * @return \WP_REST_Response|\WP_Error
 */
function rest_get_group( \WP_REST_Request $request ) {
	$group = get_group_info( (int) $request['id'] );
	if ( null === $group ) {
		return new \WP_Error( 'therapy_group_not_found', 'No such therapy group.', array( 'status' => 404 ) );
	}
	return rest_ensure_response( $group );
}

/**
 * POST /bookings: 201 created, 200 when this intent already has its booking.
 *
 * @return \WP_REST_Response|\WP_Error
 */
function rest_create_booking( \WP_REST_Request $request ) {
	$payment = array();
	foreach ( array_keys( payment_args() ) as $key ) {
		if ( null !== $request->get_param( $key ) ) {
			$payment[ $key ] = (string) $request->get_param( $key );
		}
	}
	$result = create_booking( (string) $request['intent_ref'], (int) $request['group_id'], (int) $request['user_id'], $payment );
	if ( is_wp_error( $result ) ) {
		return $result;
	}
	$body = $result['booking'] + array( 'created' => $result['created'] );
	return new \WP_REST_Response( $body, $result['created'] ? 201 : 200 );
}

/**
 * GET /bookings[?intent_ref=][&group_id=]
 *
 * @return \WP_REST_Response
 */
function rest_list_bookings( \WP_REST_Request $request ) {
	$ref      = $request->get_param( 'intent_ref' );
	$group_id = $request->get_param( 'group_id' );
	return rest_ensure_response(
		list_bookings(
			null === $ref ? null : (string) $ref,
			null === $group_id ? null : (int) $group_id
		)
	);
}

/**
 * POST /bookings/cancel: 200 {"cancelled":true,...} when this call removed the booking, 200
 * {"cancelled":false,...} when it was already gone (a repeat is answered, never an error).
 *
 * @return \WP_REST_Response|\WP_Error
 */
function rest_cancel_booking( \WP_REST_Request $request ) {
	$result = cancel_booking( (string) $request['intent_ref'] );
	if ( is_wp_error( $result ) ) {
		return $result;
	}
	return new \WP_REST_Response( $result, 200 );
}

/**
 * POST /emails: 202 {"sent":true}; 200 {"sent":false,"reason":...} for a repeat or a disabled template.
 *
 * @return \WP_REST_Response|\WP_Error
 */
function rest_send_email( \WP_REST_Request $request ) {
	$data   = $request->get_param( 'data' );
	$result = send_template_email(
		array(
			'template'   => (string) $request['template'],
			'intent_ref' => (string) $request['intent_ref'],
			'user_id'    => $request->get_param( 'user_id' ) ? (int) $request->get_param( 'user_id' ) : null,
			'to'         => $request->get_param( 'to' ) ? (string) $request->get_param( 'to' ) : null,
			'data'       => is_array( $data ) ? $data : array(),
			'locale'     => $request->get_param( 'locale' ) ? (string) $request->get_param( 'locale' ) : '',
		)
	);
	if ( is_wp_error( $result ) ) {
		return $result;
	}
	return new \WP_REST_Response( $result, $result['sent'] ? 202 : 200 );
}
