<?php
/**
 * One-time login grants: GET /?rest_route=/therapy-sidecar/v1/login&grant=TOKEN
 *
 * The permission callback verifies the grant (signature, typ "login", exp in the future and at most
 * 10 minutes ahead, a jti, the ref of an intent, an existing user who is not an administrator and
 * whose therapy_sidecar_intent meta is that ref: only the account the intent created). The callback
 * consumes the jti (primary key of the grants table: single use), sets the auth cookie and answers
 * 302 to the group's thank-you page.
 * A genuine grant that was already used or has expired (Back or refresh after paying) logs nobody in
 * and is no error either: the browser goes on to the thank-you page when it is already logged in as
 * the grant's user, else to the login form with the user's e-mail filled in.
 * For this route the REST server's JSON output is replaced by small HTML pages (see serve_login_html).
 * wp-login.php?therapy_prefill=TOKEN (the sidecar's login_page_url) fills in the e-mail and sends a browser
 * already logged in as that user on to redirect_to (see login-form.php).
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

const LOGIN_ROUTE = '/therapy-sidecar/v1/login';

/**
 * @return array<string, mixed>|\WP_Error The verified payload (uid as int) or a 403 error.
 */
function verify_login_grant( string $grant, ?int $now = null ) {
	$now     = $now ?? time();
	$payload = verify_token( $grant, 'login', $now );
	if ( is_wp_error( $payload ) ) {
		return $payload;
	}
	$invalid = new \WP_Error( 'therapy_token_invalid', 'The token is not valid.', array( 'status' => 403 ) );
	if ( $payload['exp'] > $now + LOGIN_GRANT_MAX_LIFETIME ) {
		return $invalid; // Nobody may mint long-lived login links.
	}
	$jti = $payload['jti'] ?? null;
	if ( ! is_string( $jti ) || ! preg_match( '/^[A-Za-z0-9_-]{16,64}$/', $jti ) ) {
		return $invalid;
	}
	if ( ! isset( $payload['ref'] ) || ! is_valid_intent_ref( $payload['ref'] ) ) {
		return $invalid; // Only a grant for an intent can name the account that intent created.
	}
	$user = grant_user( $payload );
	if ( ! $user ) {
		return new \WP_Error( 'therapy_user_not_found', 'The user of this login link does not exist.', array( 'status' => 403 ) );
	}
	$uid = (int) $user->ID;
	/**
	 * Whether a login grant may log this user in. By default only the account the grant's intent
	 * created (its intent meta equals the grant's ref), and never an administrator (manage_options,
	 * super admins): a leaked shared secret must not open an editor's or the site's administration.
	 *
	 * @param bool     $allowed Default: the user cannot manage options.
	 * @param \WP_User $user    The user named by the grant.
	 * @param array    $payload The verified grant.
	 */
	$allowed = created_by_intent( $user, (string) $payload['ref'] )
		&& ! user_can( $user, 'manage_options' ) && ! is_super_admin( $user->ID );
	if ( ! apply_filters( 'therapy_sidecar_allow_login_grant', $allowed, $user, $payload ) ) {
		return new \WP_Error( 'therapy_login_not_allowed', 'Login links cannot be used for this account.', array( 'status' => 403 ) );
	}
	$payload['uid'] = $uid;
	return $payload;
}

/**
 * The user a grant names, or false.
 *
 * @param array<string, mixed> $payload Grant payload.
 * @return \WP_User|false
 */
function grant_user( array $payload ) {
	$uid = payload_uid( $payload['uid'] ?? null );
	return $uid > 0 ? get_userdata( $uid ) : false;
}

/**
 * Whether the intent $ref created $user (the sidecar stamps the intent ref on the users it creates).
 */
function created_by_intent( \WP_User $user, string $ref ): bool {
	$stamped = get_user_meta( $user->ID, INTENT_META, true );
	return '' !== $ref && is_string( $stamped ) && hash_equals( $stamped, $ref );
}

/**
 * The payload of a genuine grant that has expired, still for the account its intent created; null
 * for anything else. Signature and type are checked; the expiry is not (now = 0): the payload is
 * used only to choose where to send the browser, never to log anyone in.
 *
 * @return array<string, mixed>|null
 */
function expired_grant_payload( string $grant ): ?array {
	$payload = verify_token( $grant, 'login', 0 );
	if ( is_wp_error( $payload ) || ! isset( $payload['ref'] ) || ! is_valid_intent_ref( $payload['ref'] ) ) {
		return null;
	}
	$user = grant_user( $payload );
	return $user && created_by_intent( $user, (string) $payload['ref'] ) ? $payload : null;
}

/**
 * permission_callback of GET /login: a valid grant is the permission; a genuine expired one lets
 * the callback send the browser on (it logs nobody in).
 *
 * @return true|\WP_Error
 */
function login_permission( \WP_REST_Request $request ) {
	$grant  = (string) $request->get_param( 'grant' );
	$result = verify_login_grant( $grant );
	if ( is_wp_error( $result ) && 'therapy_token_expired' === $result->get_error_code() && null !== expired_grant_payload( $grant ) ) {
		return true;
	}
	return is_wp_error( $result ) ? $result : true;
}

/**
 * Callback of GET /login.
 *
 * @return \WP_REST_Response|\WP_Error
 */
function rest_login( \WP_REST_Request $request ) {
	global $wpdb;
	$grant   = (string) $request->get_param( 'grant' );
	$payload = verify_login_grant( $grant );
	if ( is_wp_error( $payload ) ) {
		$expired = 'therapy_token_expired' === $payload->get_error_code() ? expired_grant_payload( $grant ) : null;
		return null !== $expired ? send_on( $expired ) : $payload;
	}
	if ( ! ensure_schema() ) {
		return schema_error();
	}
	$uid      = (int) $payload['uid'];
	$inserted = $wpdb->query(
		$wpdb->prepare(
			'INSERT IGNORE INTO ' . table( 'login_grants' ) . ' (jti, user_id, used_at) VALUES (%s, %d, %s)', // Only the table name is concatenated (from table()); values go through prepare().
			$payload['jti'],
			$uid,
			db_now()
		)
	);
	if ( false === $inserted ) {
		return new \WP_Error( 'therapy_sidecar_db_error', 'The login link could not be checked.', array( 'status' => 500 ) );
	}
	if ( 1 !== (int) $inserted ) {
		return send_on( $payload ); // Back or refresh after paying: no second login, no error.
	}

	$user = get_userdata( $uid );
	wp_clear_auth_cookie();
	wp_set_current_user( $uid );
	wp_set_auth_cookie( $uid, false, is_ssl() );
	/** This action is documented in wp-includes/user.php */
	do_action( 'wp_login', $user->user_login, $user );
	return redirect_response( login_redirect_url( $payload ) );
}

/**
 * Where a spent (used or expired) grant sends the browser: the thank-you page when the browser is
 * already logged in as the grant's user, else the login form with that user's e-mail filled in.
 *
 * @param array<string, mixed> $payload Verified grant payload (uid, ref).
 */
function send_on( array $payload ): \WP_REST_Response {
	$next = login_redirect_url( $payload );
	$user = grant_user( $payload );
	// REST requests without a nonce run as logged out, so read the logged_in cookie itself.
	if ( ! $user || (int) wp_validate_auth_cookie( '', 'logged_in' ) === (int) $user->ID ) {
		return redirect_response( $next );
	}
	// The e-mail is filled in from a signed one-hour token naming the user (login-form.php): the
	// address itself goes in no URL (server logs, Referer, history).
	$token = sign_token(
		array(
			'typ' => 'prefill',
			'uid' => (int) $user->ID,
			'exp' => time() + HOUR_IN_SECONDS,
		)
	);
	return redirect_response( add_query_arg( PREFILL_PARAM, $token, wp_login_url( $next ) ) );
}

function redirect_response( string $location ): \WP_REST_Response {
	$response = new \WP_REST_Response( null, 302 );
	$response->header( 'Location', $location );
	$response->header( 'Referrer-Policy', 'no-referrer' );
	foreach ( wp_get_nocache_headers() as $name => $value ) {
		if ( $value ) {
			$response->header( $name, $value );
		}
	}
	return $response;
}

/**
 * Where a used grant sends the browser: the thank-you page of the grant's booking (ref -> booking ->
 * group), else the home page. Filter: therapy_sidecar_login_redirect ($url, $payload). Off-site URLs
 * are replaced by the home page (wp_validate_redirect, as wp_safe_redirect does).
 *
 * @param array<string, mixed> $payload Verified grant payload.
 */
function login_redirect_url( array $payload ): string {
	$home = home_url( '/' );
	$url  = $home;
	if ( isset( $payload['ref'] ) && is_string( $payload['ref'] ) ) {
		$booking = find_booking_by_ref( $payload['ref'] );
		if ( $booking ) {
			$group = get_group_info( (int) $booking['group_id'] );
			if ( $group ) {
				$url = $group['thank_you_url'];
			}
		}
	}
	$url = (string) apply_filters( 'therapy_sidecar_login_redirect', $url, $payload );
	return wp_validate_redirect( $url, $home );
}

/**
 * rest_pre_serve_request: the login route talks to a browser, so answer HTML, not JSON.
 *
 * @param bool              $served  Already served.
 * @param \WP_HTTP_Response $result  Response.
 * @param \WP_REST_Request  $request Request.
 */
function serve_login_html( $served, $result, $request ) {
	if ( $served || ! $request instanceof \WP_REST_Request || ! $result instanceof \WP_HTTP_Response ) {
		return $served;
	}
	if ( untrailingslashit( $request->get_route() ) !== LOGIN_ROUTE ) {
		return $served;
	}
	$status = (int) $result->get_status();
	header( 'Content-Type: text/html; charset=UTF-8' );
	header( 'X-Robots-Tag: noindex, nofollow' );
	if ( $status >= 300 && $status < 400 ) {
		$headers  = $result->get_headers();
		$location = isset( $headers['Location'] ) ? (string) $headers['Location'] : home_url( '/' );
		echo login_page( __( 'Logging you in…', 'therapy-sidecar' ), '<p><a href="' . esc_url( $location ) . '">' . esc_html__( 'Continue', 'therapy-sidecar' ) . '</a></p>' ); // login_page() escapes the title; the body is escaped here.
		return true;
	}
	$data = $result->get_data();
	$code = is_array( $data ) && isset( $data['code'] ) ? (string) $data['code'] : '';
	switch ( $code ) {
		case 'therapy_login_grant_used':
			$title = __( 'This login link was already used', 'therapy-sidecar' );
			$text  = __( 'For your security every login link works only once. Your registration is not affected: log in with your e-mail address and password instead.', 'therapy-sidecar' );
			break;
		case 'therapy_token_expired':
			$title = __( 'This login link has expired', 'therapy-sidecar' );
			$text  = __( 'Login links are only valid for a few minutes. Your registration is not affected: log in with your e-mail address and password instead.', 'therapy-sidecar' );
			break;
		case 'therapy_login_not_allowed':
			$title = __( 'This login link cannot be used for your account', 'therapy-sidecar' );
			$text  = __( 'Login links work only for the account a registration created, never for administrators. Please log in with your e-mail address and password.', 'therapy-sidecar' );
			break;
		case 'therapy_sidecar_not_configured':
			$title = __( 'Login links are not available', 'therapy-sidecar' );
			$text  = __( 'This site cannot accept login links right now. Please log in with your e-mail address and password.', 'therapy-sidecar' );
			break;
		default:
			$title = __( 'This login link is not valid', 'therapy-sidecar' );
			$text  = __( 'Please log in with your e-mail address and password.', 'therapy-sidecar' );
			break;
	}
	$links = sprintf(
		'<p>%1$s</p><p><a href="%2$s">%3$s</a> · <a href="%4$s">%5$s</a> · <a href="%6$s">%7$s</a></p>',
		esc_html( $text ),
		esc_url( wp_login_url() ),
		esc_html__( 'Log in', 'therapy-sidecar' ),
		esc_url( wp_lostpassword_url() ),
		esc_html__( 'Set or reset your password', 'therapy-sidecar' ),
		esc_url( home_url( '/' ) ),
		esc_html__( 'Home page', 'therapy-sidecar' )
	);
	echo login_page( $title, $links ); // login_page() escapes the title; $links is escaped above.
	return true;
}

/**
 * A minimal, self-contained HTML page.
 *
 * @param string $title    Plain text.
 * @param string $body_html Escaped HTML.
 */
function login_page( string $title, string $body_html ): string {
	$site = get_bloginfo( 'name' );
	return '<!DOCTYPE html><html lang="' . esc_attr( get_bloginfo( 'language' ) ) . '" dir="' . ( is_rtl_locale() ? 'rtl' : 'ltr' ) . '"><head><meta charset="utf-8">'
		. '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
		. '<title>' . esc_html( $title . ' – ' . $site ) . '</title>'
		. '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1e1e1e}</style>'
		. '</head><body><h1>' . esc_html( $title ) . '</h1>' . $body_html . '</body></html>';
}
