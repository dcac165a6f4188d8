<?php
/**
 * Plugin Name: Therapy Sidecar Bridge
 * Description: Lets the Therapy Pay Sidecar (payment-first PayTabs checkout) book therapy-group sessions, send the related e-mails and log buyers in with one-time login grants. REST namespace therapy-sidecar/v1; shortcodes [therapy_sidecar_form], [therapy_sidecar_status] and [therapy_sidecar_receipt].
 * Version: 1.0.0
 * Requires at least: 6.1
 * Requires PHP: 8.2
 * License: GPL-2.0-or-later
 * Text Domain: therapy-sidecar
 * Domain Path: /therapy-sidecar-bridge/languages
 *
 * Install as a must-use plugin: copy this file AND the folder therapy-sidecar-bridge/ next to it into
 * wp-content/mu-plugins/ (WordPress loads only the top-level *.php files of mu-plugins; this loader
 * requires the rest).
 *
 * Configuration (wp-config.php, never the database):
 *   define( 'THERAPY_SIDECAR_SHARED_SECRET', '...' );  // the sidecar's SIDECAR_SHARED_SECRET
 *   define( 'THERAPY_SIDECAR_URL', 'https://example.org/sidecar' );  // optional, default home_url('/sidecar')
 *
 * Groups come from the option `therapy_sidecar_groups` (array keyed by group id) or from the site's own
 * data through the filter `therapy_sidecar_group_info`. See therapy-sidecar-bridge/groups.php.
 *
 * This plugin never reads or writes payment credentials and has no settings page.
 */

defined( 'ABSPATH' ) || exit;

if ( defined( 'THERAPY_SIDECAR_BRIDGE_VERSION' ) ) {
	return; // Loaded twice (e.g. copied as a normal plugin too).
}

define( 'THERAPY_SIDECAR_BRIDGE_VERSION', '1.0.0' );
define( 'THERAPY_SIDECAR_BRIDGE_DIR', __DIR__ . '/therapy-sidecar-bridge' );

foreach ( array( 'i18n', 'tokens', 'schema', 'groups', 'bookings', 'emails', 'login', 'login-form', 'shortcodes', 'draft', 'form', 'status-script', 'status', 'receipt', 'rest', 'operator-client', 'panel' ) as $therapy_sidecar_module ) {
	require_once THERAPY_SIDECAR_BRIDGE_DIR . '/' . $therapy_sidecar_module . '.php';
}
unset( $therapy_sidecar_module );

/*
 * Every hook of the plugin, in one place. The modules above only declare functions and constants;
 * nothing is wired until here. (Hooks a function adds for one request only, such as the wp_mail
 * listeners of emails.php or the login_form script of login-form.php, stay beside their code.)
 */

// i18n.php: the plugin's texts in the request's language (text domain therapy-sidecar, its
// languages/ folder; priority 1: before the shortcodes and routes that print them), and again in the
// language switch_to_locale() moves to (the e-mails composed in the buyer's language).
add_action( 'init', 'TherapySidecar\\load_textdomain_for_request', 1 );
add_action( 'change_locale', 'TherapySidecar\\load_plugin_translations' );

// rest.php: the user meta the sidecar stamps on the buyers it creates, and the plugin's tables
// (priority 5: before anything else on init may need them); the REST routes of therapy-sidecar/v1.
add_action( 'init', 'TherapySidecar\\on_init', 5 );
add_action( 'rest_api_init', 'TherapySidecar\\register_routes' );

// login.php: the login route answers a browser, so it is served as HTML, not JSON.
add_filter( 'rest_pre_serve_request', 'TherapySidecar\\serve_login_html', 10, 3 );

// login-form.php: wp-login.php?user_login=EMAIL, where the sidecar sends a buyer who must log in.
add_action( 'login_form_login', 'TherapySidecar\\login_form_for_buyer' );
add_action( 'login_form_lostpassword', 'TherapySidecar\\lostpassword_form_for_buyer' );

// form.php and status.php: the two shortcodes; shortcodes.php: no-cache headers for the pages that
// carry them (early, before any output); status.php: the status page's script handle.
add_shortcode( 'therapy_sidecar_form', 'TherapySidecar\\shortcode_form' );
add_shortcode( 'therapy_sidecar_status', 'TherapySidecar\\shortcode_status' );
// receipt.php: the receipt on the thank-you page (the buyer's payment and their calendar link).
add_shortcode( 'therapy_sidecar_receipt', 'TherapySidecar\\shortcode_receipt' );
add_action( 'template_redirect', 'TherapySidecar\\nocache_for_shortcode_pages', 1 );
add_action( 'init', 'TherapySidecar\\register_status_script' );

// panel.php: the payments panel (no admin menu page): administrators get therapy_sidecar_manage; the
// shortcode and the action the site's therapy dashboard embeds; no page cache for pages carrying it;
// the dashboard widget; the two actions on admin-post.php (refused with 403 when not logged in).
add_filter( 'user_has_cap', 'TherapySidecar\\grant_manage_capability' );
add_shortcode( 'therapy_sidecar_payments', 'TherapySidecar\\shortcode_payments' );
add_action( 'therapy_sidecar_payments_panel', 'TherapySidecar\\action_payments_panel' );
add_action( 'template_redirect', 'TherapySidecar\\nocache_for_panel_pages', 1 );
add_action( 'wp_dashboard_setup', 'TherapySidecar\\add_attention_widget' );
add_action( 'admin_post_therapy_sidecar_redrive', 'TherapySidecar\\handle_redrive' );
add_action( 'admin_post_therapy_sidecar_cancel', 'TherapySidecar\\handle_cancel' );
add_action( 'admin_post_nopriv_therapy_sidecar_redrive', 'TherapySidecar\\refuse_payments_action' );
add_action( 'admin_post_nopriv_therapy_sidecar_cancel', 'TherapySidecar\\refuse_payments_action' );
