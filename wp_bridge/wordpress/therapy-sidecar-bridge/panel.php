<?php
/**
 * The payments panel, where the staff already work (no admin menu page of its own):
 *
 *   [therapy_sidecar_payments]                       shortcode: the panel, on any page the site's
 *                                                    therapy admin dashboard is built from;
 *   do_action( 'therapy_sidecar_payments_panel' )    echoes the same panel, for dashboards in PHP;
 *   the WordPress dashboard widget "Registrations needing attention".
 *
 * The panel searches registrations (e-mail, name, reference or PayTabs reference), lists them, shows
 * one registration with its timeline, and acts on it: redrive, or cancel and refund (an optional
 * amount, a required reason). Each action takes two steps without JavaScript: the form on the
 * registration leads to a confirmation page ("Really cancel and refund X?"), whose form POSTs to
 * admin-post.php with a nonce. The handler acts through the sidecar's operator API (operator-client.php),
 * which records the acting WordPress user, then redirects back to the panel with the result.
 *
 * Who may: users with the capability `therapy_sidecar_manage`. Administrators have it through the
 * `user_has_cap` filter below (whoever has manage_options has it), so nothing is written to the
 * database, it is present from the first request, cannot drift, and follows the administrator role;
 * a site may still grant it to other roles or users (e.g. its therapy staff) with add_cap(). Everyone
 * else sees "not available", gets no dashboard widget, and every action answers 403.
 *
 * Where the widget links to: the filter `therapy_sidecar_panel_url` (the URL of the page that embeds
 * the panel; the widget adds ?tsp_ref=REF). Without it the widget lists registrations without links.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/** The capability that opens the panel and its actions. */
const PANEL_CAPABILITY = 'therapy_sidecar_manage';

/** The panel's own query arguments (removed from the page URL when building links). */
const PANEL_ARGS = array( 'tsp_q', 'tsp_state', 'tsp_ref', 'tsp_confirm', 'tsp_amount', 'tsp_reason', 'tsp_notice' );

/** The states one can filter by (the sidecar's states). */
const PANEL_STATES = array( 'awaiting_payment', 'paid', 'fulfilling', 'fulfilled', 'payment_failed', 'expired', 'refunding', 'refunded', 'needs_attention' );

/** Longest reason accepted (characters). */
const PANEL_REASON_MAX = 500;

/** How long a result notice waits for the redirect (seconds). */
const PANEL_NOTICE_LIFETIME = 300;

/**
 * user_has_cap: whoever can manage the site's options can manage therapy payments.
 *
 * @param array<string, bool> $allcaps The user's capabilities.
 * @return array<string, bool>
 */
function grant_manage_capability( $allcaps ) {
	if ( is_array( $allcaps ) && ! empty( $allcaps['manage_options'] ) ) {
		$allcaps[ PANEL_CAPABILITY ] = true;
	}
	return $allcaps;
}

function can_manage_payments(): bool {
	return is_user_logged_in() && current_user_can( PANEL_CAPABILITY );
}

/**
 * A request parameter as trimmed text ('' when absent).
 */
function panel_param( string $name, string $source = 'get' ): string {
	// Read only, unslashed and sanitised below; the handlers that act check their nonce first.
	$values = 'post' === $source ? $_POST : $_GET;
	if ( ! isset( $values[ $name ] ) || ! is_string( $values[ $name ] ) ) {
		return '';
	}
	return trim( sanitize_textarea_field( wp_unslash( $values[ $name ] ) ) );
}

/**
 * The panel page's URL without the panel's own arguments (relative to the site, as requested).
 */
function panel_page_url(): string {
	return remove_query_arg( PANEL_ARGS );
}

/**
 * A link to the panel with the given arguments.
 *
 * @param array<string, string> $args Panel arguments.
 */
function panel_link( array $args ): string {
	return add_query_arg( array_map( 'rawurlencode', $args ), panel_page_url() );
}

/**
 * Hidden inputs for the page URL's own query arguments (a GET form drops its action's query).
 */
function panel_page_hidden_inputs(): string {
	$query = wp_parse_url( panel_page_url(), PHP_URL_QUERY );
	if ( ! is_string( $query ) || '' === $query ) {
		return '';
	}
	parse_str( $query, $args );
	$html = '';
	foreach ( $args as $name => $value ) {
		if ( is_string( $value ) ) {
			$html .= '<input type="hidden" name="' . esc_attr( (string) $name ) . '" value="' . esc_attr( $value ) . '">';
		}
	}
	return $html;
}

/**
 * An amount as the operator API wants it ("50.00"), null for none, false when it is not one.
 *
 * @return string|null|false
 */
function panel_amount( string $text ) {
	$text = str_replace( ',', '.', trim( $text ) );
	if ( '' === $text ) {
		return null;
	}
	if ( ! preg_match( '/^[0-9]{1,9}(\.[0-9]{1,2})?$/', $text ) || 0.0 >= (float) $text ) {
		return false;
	}
	return number_format( (float) $text, 2, '.', '' );
}

/**
 * The shortcode [therapy_sidecar_payments].
 */
function shortcode_payments(): string {
	mark_page_uncacheable();
	if ( ! can_manage_payments() ) {
		return '<div class="therapy-sidecar-panel therapy-sidecar-panel--unavailable"' . dir_attributes() . '><p>'
			. esc_html__( 'This page is not available.', 'therapy-sidecar' ) . '</p></div>';
	}
	return render_panel();
}

/**
 * The action therapy_sidecar_payments_panel: echoes the panel (the "not available" line for others).
 */
function action_payments_panel(): void {
	echo shortcode_payments(); // Escaped piece by piece in render_panel().
}

/**
 * template_redirect: no page cache for pages that carry the panel.
 */
function nocache_for_panel_pages(): void {
	if ( ! is_singular() ) {
		return;
	}
	$post = get_post();
	if ( $post && has_shortcode( $post->post_content, 'therapy_sidecar_payments' ) ) {
		mark_page_uncacheable();
	}
}

/**
 * A notice box.
 */
function panel_notice( string $message, string $kind = 'error' ): string {
	return '<div class="therapy-sidecar-panel__notice therapy-sidecar-panel__notice--' . esc_attr( $kind ) . '" role="'
		. ( 'error' === $kind ? 'alert' : 'status' ) . '"><p>' . esc_html( $message ) . '</p></div>';
}

/**
 * The result notice of the last action, once, for the user who acted.
 */
function panel_take_notice(): string {
	$key = panel_param( 'tsp_notice' );
	if ( ! preg_match( '/^[a-f0-9]{16}$/', $key ) ) {
		return '';
	}
	$name   = 'therapy_sidecar_notice_' . get_current_user_id() . '_' . $key;
	$notice = get_transient( $name );
	delete_transient( $name );
	if ( ! is_array( $notice ) || ! isset( $notice['message'], $notice['kind'] ) ) {
		return '';
	}
	return panel_notice( (string) $notice['message'], (string) $notice['kind'] );
}

/**
 * The whole panel for a user who may see it.
 */
function render_panel(): string {
	$html  = '<div class="therapy-sidecar-panel"' . dir_attributes() . '>';
	$html .= '<h2>' . esc_html__( 'Therapy payments', 'therapy-sidecar' ) . '</h2>';
	$html .= panel_take_notice();
	$ref   = panel_param( 'tsp_ref' );
	if ( '' !== $ref && ! is_operator_ref( $ref ) ) {
		$html .= panel_notice( __( 'That is not a registration reference.', 'therapy-sidecar' ) );
		$ref   = '';
	}
	if ( '' === $ref ) {
		$html .= render_search_form() . render_registration_list();
	} elseif ( in_array( panel_param( 'tsp_confirm' ), array( 'redrive', 'cancel' ), true ) ) {
		$html .= render_confirmation( $ref, panel_param( 'tsp_confirm' ) );
	} else {
		$html .= render_registration( $ref );
	}
	return $html . '</div>';
}

function render_search_form(): string {
	$state   = panel_param( 'tsp_state' );
	$options = '<option value="">' . esc_html__( 'Any state', 'therapy-sidecar' ) . '</option>';
	foreach ( PANEL_STATES as $candidate ) {
		$options .= '<option value="' . esc_attr( $candidate ) . '"' . selected( $state, $candidate, false ) . '>' . esc_html( $candidate ) . '</option>';
	}
	return '<form class="therapy-sidecar-panel__search" method="get" action="' . esc_url( panel_page_url() ) . '">'
		. panel_page_hidden_inputs()
		. '<p><label for="tsp_q">' . esc_html__( 'E-mail, name, reference or PayTabs reference', 'therapy-sidecar' ) . '</label> '
		. '<input type="search" id="tsp_q" name="tsp_q" value="' . esc_attr( panel_param( 'tsp_q' ) ) . '"> '
		. '<label for="tsp_state">' . esc_html__( 'State', 'therapy-sidecar' ) . '</label> '
		. '<select id="tsp_state" name="tsp_state">' . $options . '</select> '
		. '<button type="submit">' . esc_html__( 'Search', 'therapy-sidecar' ) . '</button></p></form>';
}

/**
 * A value of the API as text.
 *
 * @param mixed $value Any decoded JSON value.
 */
function panel_text( $value ): string {
	if ( null === $value ) {
		return '';
	}
	if ( is_bool( $value ) ) {
		return $value ? __( 'yes', 'therapy-sidecar' ) : __( 'no', 'therapy-sidecar' );
	}
	if ( is_scalar( $value ) ) {
		return (string) $value;
	}
	$json = wp_json_encode( $value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE );
	return false === $json ? '' : $json;
}

/**
 * A row's group as text (an id, a name, or an object with either).
 *
 * @param mixed $group The "group" value.
 */
function panel_group_text( $group ): string {
	if ( is_array( $group ) ) {
		foreach ( array( 'name', 'title', 'id' ) as $key ) {
			if ( isset( $group[ $key ] ) && is_scalar( $group[ $key ] ) ) {
				return (string) $group[ $key ];
			}
		}
	}
	return panel_text( $group );
}

/**
 * The list of registrations, as a table.
 *
 * @param array<int, mixed> $rows      Registrations.
 * @param bool              $with_link Link each reference to the registration's page.
 * @param string            $base      Base URL for links ('' = this panel page).
 */
function render_registration_table( array $rows, bool $with_link = true, string $base = '' ): string {
	if ( ! $rows ) {
		return '<p class="therapy-sidecar-panel__empty">' . esc_html__( 'No registrations found.', 'therapy-sidecar' ) . '</p>';
	}
	$html  = '<table class="therapy-sidecar-panel__list widefat striped"><thead><tr>';
	$heads = array(
		__( 'Reference', 'therapy-sidecar' ),
		__( 'State', 'therapy-sidecar' ),
		__( 'Group', 'therapy-sidecar' ),
		__( 'Amount', 'therapy-sidecar' ),
		__( 'E-mail', 'therapy-sidecar' ),
		__( 'Name', 'therapy-sidecar' ),
		__( 'PayTabs reference', 'therapy-sidecar' ),
		__( 'Created', 'therapy-sidecar' ),
		__( 'Updated', 'therapy-sidecar' ),
	);
	foreach ( $heads as $head ) {
		$html .= '<th scope="col">' . esc_html( $head ) . '</th>';
	}
	$html .= '</tr></thead><tbody>';
	foreach ( $rows as $row ) {
		if ( ! is_array( $row ) ) {
			continue;
		}
		$ref   = panel_text( $row['ref'] ?? '' );
		$state = panel_text( $row['state'] ?? '' );
		if ( '' !== panel_text( $row['reason'] ?? '' ) ) {
			$state .= ' (' . panel_text( $row['reason'] ) . ')';
		}
		if ( '' !== panel_text( $row['hold_expires_at'] ?? '' ) ) {
			/* translators: %s: date and time the payment hold expires */
			$state .= ' ' . sprintf( __( 'hold until %s', 'therapy-sidecar' ), panel_text( $row['hold_expires_at'] ) );
		}
		$cell = esc_html( $ref );
		if ( $with_link && is_operator_ref( $ref ) ) {
			$url  = '' === $base ? panel_link( array( 'tsp_ref' => $ref ) ) : add_query_arg( 'tsp_ref', rawurlencode( $ref ), $base );
			$cell = '<a href="' . esc_url( $url ) . '">' . $cell . '</a>';
		}
		$html .= '<tr data-ref="' . esc_attr( $ref ) . '"><td>' . $cell . '</td>'
			. '<td>' . esc_html( $state ) . '</td>'
			. '<td>' . esc_html( panel_group_text( $row['group'] ?? '' ) ) . '</td>'
			. '<td>' . esc_html( trim( panel_text( $row['amount'] ?? '' ) . ' ' . panel_text( $row['currency'] ?? '' ) ) ) . '</td>'
			. '<td>' . esc_html( panel_text( $row['email'] ?? '' ) ) . '</td>'
			. '<td>' . esc_html( panel_text( $row['name'] ?? '' ) ) . '</td>'
			. '<td>' . esc_html( panel_text( $row['tran_ref'] ?? '' ) ) . '</td>'
			. '<td>' . esc_html( panel_text( $row['created_at'] ?? '' ) ) . '</td>'
			. '<td>' . esc_html( panel_text( $row['updated_at'] ?? '' ) ) . '</td></tr>';
	}
	return $html . '</tbody></table>';
}

function render_registration_list(): string {
	$state = panel_param( 'tsp_state' );
	if ( '' !== $state && ! in_array( $state, PANEL_STATES, true ) ) {
		$state = '';
	}
	$result = operator_list_registrations( panel_param( 'tsp_q' ), $state );
	if ( ! $result['ok'] ) {
		return panel_notice( $result['message'] );
	}
	$rows = isset( $result['data']['registrations'] ) && is_array( $result['data']['registrations'] ) ? $result['data']['registrations'] : array();
	return render_registration_table( $rows );
}

/**
 * A table of rows with the union of their keys as columns (the timeline).
 *
 * @param array<int, mixed> $rows Timeline rows.
 */
function render_generic_table( array $rows ): string {
	$keys = array();
	foreach ( $rows as $row ) {
		if ( is_array( $row ) ) {
			foreach ( array_keys( $row ) as $key ) {
				$keys[ (string) $key ] = true;
			}
		}
	}
	if ( ! $keys ) {
		return '<p>' . esc_html__( 'No events recorded.', 'therapy-sidecar' ) . '</p>';
	}
	$html = '<table class="therapy-sidecar-panel__timeline widefat striped"><thead><tr>';
	foreach ( array_keys( $keys ) as $key ) {
		$html .= '<th scope="col">' . esc_html( $key ) . '</th>';
	}
	$html .= '</tr></thead><tbody>';
	foreach ( $rows as $row ) {
		if ( ! is_array( $row ) ) {
			continue;
		}
		$html .= '<tr>';
		foreach ( array_keys( $keys ) as $key ) {
			$html .= '<td>' . esc_html( panel_text( $row[ $key ] ?? null ) ) . '</td>';
		}
		$html .= '</tr>';
	}
	return $html . '</tbody></table>';
}

/**
 * One registration: its fields, its timeline, and the action forms.
 */
function render_registration( string $ref, string $error = '' ): string {
	$back   = '<p><a href="' . esc_url( panel_page_url() ) . '">' . esc_html__( '← All registrations', 'therapy-sidecar' ) . '</a></p>';
	$result = operator_get_registration( $ref );
	if ( ! $result['ok'] ) {
		return $back . panel_notice( $result['message'] );
	}
	$registration = isset( $result['data']['registration'] ) && is_array( $result['data']['registration'] ) ? $result['data']['registration'] : array();
	$timeline     = isset( $result['data']['timeline'] ) && is_array( $result['data']['timeline'] ) ? $result['data']['timeline'] : array();
	$html         = $back;
	if ( '' !== $error ) {
		$html .= panel_notice( $error );
	}
	/* translators: %s: registration reference */
	$html .= '<h3>' . esc_html( sprintf( __( 'Registration %s', 'therapy-sidecar' ), $ref ) ) . '</h3>';
	$html .= '<table class="therapy-sidecar-panel__registration widefat"><tbody>';
	foreach ( $registration as $key => $value ) {
		$text  = 'group' === $key ? panel_group_text( $value ) : panel_text( $value );
		$html .= '<tr><th scope="row">' . esc_html( (string) $key ) . '</th><td>' . esc_html( $text ) . '</td></tr>';
	}
	$html .= '</tbody></table>';
	$html .= '<h3>' . esc_html__( 'Timeline', 'therapy-sidecar' ) . '</h3>' . render_generic_table( $timeline );
	$html .= '<h3>' . esc_html__( 'Actions', 'therapy-sidecar' ) . '</h3>';
	$hidden = panel_page_hidden_inputs() . '<input type="hidden" name="tsp_ref" value="' . esc_attr( $ref ) . '">';
	$html  .= '<form class="therapy-sidecar-panel__redrive" method="get" action="' . esc_url( panel_page_url() ) . '">' . $hidden
		. '<input type="hidden" name="tsp_confirm" value="redrive">'
		. '<p>' . esc_html__( 'Redrive: run the next step of this registration again (confirm the payment, book, or refund).', 'therapy-sidecar' ) . '</p>'
		. '<p><button type="submit">' . esc_html__( 'Redrive…', 'therapy-sidecar' ) . '</button></p></form>';
	$html  .= '<form class="therapy-sidecar-panel__cancel" method="get" action="' . esc_url( panel_page_url() ) . '">' . $hidden
		. '<input type="hidden" name="tsp_confirm" value="cancel">'
		. '<p>' . esc_html__( 'Cancel and refund: remove the booking and the group membership, and refund the payment.', 'therapy-sidecar' ) . '</p>'
		. '<p><label for="tsp_amount">' . esc_html__( 'Amount to refund (empty: the full amount)', 'therapy-sidecar' ) . '</label> '
		. '<input type="text" inputmode="decimal" id="tsp_amount" name="tsp_amount" value="' . esc_attr( panel_param( 'tsp_amount' ) ) . '"></p>'
		. '<p><label for="tsp_reason">' . esc_html__( 'Reason (required)', 'therapy-sidecar' ) . '</label><br>'
		. '<textarea id="tsp_reason" name="tsp_reason" rows="2" cols="50" maxlength="' . esc_attr( (string) PANEL_REASON_MAX ) . '" required>' . esc_textarea( panel_param( 'tsp_reason' ) ) . '</textarea></p>'
		. '<p><button type="submit">' . esc_html__( 'Cancel and refund…', 'therapy-sidecar' ) . '</button></p></form>';
	return $html;
}

/**
 * Checks the cancel form's values; '' when they are fine, else the sentence to show.
 *
 * @param string|null|false $amount From panel_amount().
 */
function cancel_values_error( $amount, string $reason ): string {
	if ( false === $amount ) {
		return __( 'The amount must be a positive number with at most two decimals, such as 50.00, or empty for the full amount.', 'therapy-sidecar' );
	}
	if ( '' === $reason ) {
		return __( 'Please give a reason for the cancellation.', 'therapy-sidecar' );
	}
	if ( mb_strlen( $reason ) > PANEL_REASON_MAX ) {
		/* translators: %d: maximum number of characters */
		return sprintf( __( 'The reason may be at most %d characters long.', 'therapy-sidecar' ), PANEL_REASON_MAX );
	}
	return '';
}

/**
 * The second step: "Really ...?" with the form that acts.
 */
function render_confirmation( string $ref, string $what ): string {
	$amount = null;
	$reason = '';
	if ( 'cancel' === $what ) {
		$amount = panel_amount( panel_param( 'tsp_amount' ) );
		$reason = panel_param( 'tsp_reason' );
		$error  = cancel_values_error( $amount, $reason );
		if ( '' !== $error ) {
			return render_registration( $ref, $error );
		}
		$question = null === $amount
			/* translators: %s: registration reference */
			? sprintf( __( 'Really cancel and refund %s in full?', 'therapy-sidecar' ), $ref )
			/* translators: 1: registration reference, 2: amount */
			: sprintf( __( 'Really cancel and refund %1$s, refunding %2$s?', 'therapy-sidecar' ), $ref, $amount );
	} else {
		/* translators: %s: registration reference */
		$question = sprintf( __( 'Really redrive %s?', 'therapy-sidecar' ), $ref );
	}
	$action = 'cancel' === $what ? 'therapy_sidecar_cancel' : 'therapy_sidecar_redrive';
	$html   = '<form class="therapy-sidecar-panel__confirm" method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">'
		. '<p class="therapy-sidecar-panel__question"><strong>' . esc_html( $question ) . '</strong></p>';
	if ( 'cancel' === $what ) {
		/* translators: %s: the reason given */
		$html .= '<p>' . esc_html( sprintf( __( 'Reason: %s', 'therapy-sidecar' ), $reason ) ) . '</p>'
			. '<input type="hidden" name="amount" value="' . esc_attr( (string) $amount ) . '">'
			. '<input type="hidden" name="reason" value="' . esc_attr( $reason ) . '">';
	}
	$html .= '<input type="hidden" name="action" value="' . esc_attr( $action ) . '">'
		. '<input type="hidden" name="ref" value="' . esc_attr( $ref ) . '">'
		. '<input type="hidden" name="confirmed" value="1">'
		. '<input type="hidden" name="return_to" value="' . esc_attr( panel_page_url() ) . '">'
		. wp_nonce_field( $action . '_' . $ref, '_wpnonce', false, false )
		. '<p><button type="submit" class="button button-primary">' . esc_html__( 'Yes, do it', 'therapy-sidecar' ) . '</button> '
		. '<a href="' . esc_url( panel_link( array( 'tsp_ref' => $ref ) ) ) . '">' . esc_html__( 'No, go back', 'therapy-sidecar' ) . '</a></p></form>';
	return $html;
}

/**
 * admin-post.php for visitors who are not logged in: refused.
 */
function refuse_payments_action(): void {
	wp_die( esc_html__( 'Sorry, you are not allowed to do that.', 'therapy-sidecar' ), '', array( 'response' => 403 ) );
}

/**
 * Checks who acts and the nonce; returns the reference (dies with 403 otherwise).
 */
function payments_action_guard( string $action ): string {
	if ( ! can_manage_payments() ) {
		refuse_payments_action();
	}
	$ref = panel_param( 'ref', 'post' );
	if ( ! is_operator_ref( $ref ) ) {
		wp_die( esc_html__( 'That is not a registration reference.', 'therapy-sidecar' ), '', array( 'response' => 400 ) );
	}
	check_admin_referer( $action . '_' . $ref );
	if ( '1' !== panel_param( 'confirmed', 'post' ) ) {
		wp_die( esc_html__( 'The action was not confirmed.', 'therapy-sidecar' ), '', array( 'response' => 400 ) );
	}
	return $ref;
}

/**
 * Stores the result for the panel and redirects back to the registration.
 *
 * @param string                                                                 $ref    Registration.
 * @param array{ok: bool, status: int, data: array<string, mixed>, message: string} $result API result.
 * @param string                                                                 $done   Success sentence.
 */
function payments_action_redirect( string $ref, array $result, string $done ): void {
	if ( $result['ok'] ) {
		$outcome = isset( $result['data']['outcome'] ) && is_array( $result['data']['outcome'] ) ? $result['data']['outcome'] : array();
		$message = $done;
		if ( '' !== panel_text( $outcome['message'] ?? '' ) ) {
			$message .= ' ' . panel_text( $outcome['message'] );
		}
		if ( '' !== panel_text( $outcome['before'] ?? '' ) || '' !== panel_text( $outcome['after'] ?? '' ) ) {
			/* translators: 1: state before, 2: state after */
			$message .= ' ' . sprintf( __( '(state: %1$s → %2$s)', 'therapy-sidecar' ), panel_text( $outcome['before'] ?? '' ), panel_text( $outcome['after'] ?? '' ) );
		}
		$notice = array(
			'kind'    => 'success',
			'message' => $message,
		);
	} else {
		$notice = array(
			'kind'    => 'error',
			'message' => $result['message'],
		);
	}
	$key = bin2hex( random_bytes( 8 ) );
	set_transient( 'therapy_sidecar_notice_' . get_current_user_id() . '_' . $key, $notice, PANEL_NOTICE_LIFETIME );
	$back = wp_validate_redirect( panel_param( 'return_to', 'post' ), admin_url() );
	if ( str_starts_with( $back, '/' ) && ! str_starts_with( $back, '//' ) ) {
		// The panel page's path as requested: make it absolute with the site's scheme and host.
		$back = (string) preg_replace( '#^(https?://[^/]+).*$#', '$1', home_url() ) . $back;
	}
	wp_safe_redirect(
		add_query_arg(
			array(
				'tsp_ref'    => rawurlencode( $ref ),
				'tsp_notice' => $key,
			),
			$back
		),
		303
	);
	exit;
}

/**
 * admin_post_therapy_sidecar_redrive.
 */
function handle_redrive(): void {
	$ref = payments_action_guard( 'therapy_sidecar_redrive' );
	payments_action_redirect( $ref, operator_redrive( $ref ), __( 'Redrive requested.', 'therapy-sidecar' ) );
}

/**
 * admin_post_therapy_sidecar_cancel.
 */
function handle_cancel(): void {
	$ref    = payments_action_guard( 'therapy_sidecar_cancel' );
	$amount = panel_amount( panel_param( 'amount', 'post' ) );
	$reason = panel_param( 'reason', 'post' );
	$error  = cancel_values_error( $amount, $reason );
	if ( '' !== $error ) {
		payments_action_redirect(
			$ref,
			array(
				'ok'      => false,
				'status'  => 422,
				'data'    => array(),
				'message' => $error,
			),
			''
		);
	}
	payments_action_redirect( $ref, operator_cancel( $ref, false === $amount ? null : $amount, $reason ), __( 'Cancellation and refund requested.', 'therapy-sidecar' ) );
}

/**
 * wp_dashboard_setup: the widget, for those who may see it.
 */
function add_attention_widget(): void {
	if ( ! can_manage_payments() ) {
		return;
	}
	wp_add_dashboard_widget( 'therapy_sidecar_attention', __( 'Registrations needing attention', 'therapy-sidecar' ), 'TherapySidecar\\render_attention_widget' );
}

/**
 * The widget's content.
 */
function render_attention_widget(): void {
	if ( ! can_manage_payments() ) {
		return;
	}
	$result = operator_attention();
	if ( ! $result['ok'] ) {
		echo panel_notice( $result['message'] ); // Escaped in panel_notice().
		return;
	}
	$rows = isset( $result['data']['registrations'] ) && is_array( $result['data']['registrations'] ) ? $result['data']['registrations'] : array();
	if ( ! $rows ) {
		echo '<p>' . esc_html__( 'No registration needs attention.', 'therapy-sidecar' ) . '</p>';
		return;
	}
	$panel = (string) apply_filters( 'therapy_sidecar_panel_url', '' );
	echo '<div class="therapy-sidecar-panel therapy-sidecar-panel--widget">' . render_registration_table( $rows, '' !== $panel, $panel ) . '</div>'; // Escaped in the table.
}
