<?php
/**
 * Languages: the plugin's catalogue (text domain therapy-sidecar, languages/therapy-sidecar-LOCALE.mo),
 * the direction of its markup, and composing an e-mail in the buyer's language.
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/** The plugin's text domain. */
const TEXT_DOMAIN = 'therapy-sidecar';

/** Languages written right to left (the part of a locale before "_"). */
const RTL_LANGUAGES = array( 'ar', 'ckb', 'fa', 'he', 'ps', 'ug', 'ur', 'yi' );

/**
 * init (wired in therapy-sidecar-bridge.php): load the catalogue of the request's locale.
 */
function load_textdomain_for_request(): void {
	load_muplugin_textdomain( TEXT_DOMAIN, 'therapy-sidecar-bridge/languages' );
}

/**
 * change_locale (switch_to_locale() and restore_previous_locale()): load the catalogue of $locale.
 *
 * Core reloads a domain only from wp-content/languages/plugins/, not from a must-use plugin's own
 * folder, so the plugin reloads its own.
 *
 * @param string $locale The locale switched to.
 */
function load_plugin_translations( $locale ): void {
	unload_textdomain( TEXT_DOMAIN );
	$file = TEXT_DOMAIN . '-' . (string) $locale . '.mo';
	// As load_muplugin_textdomain(): a site's own file in wp-content/languages/plugins/ first.
	foreach ( array( WP_LANG_DIR . '/plugins/' . $file, THERAPY_SIDECAR_BRIDGE_DIR . '/languages/' . $file ) as $mofile ) {
		if ( is_readable( $mofile ) && load_textdomain( TEXT_DOMAIN, $mofile ) ) {
			return;
		}
	}
}

/**
 * Whether text in $locale (default: the request's) is written right to left.
 *
 * is_rtl() answers for the request's locale only when WordPress's own translation of that language
 * is installed; the plugin ships Arabic without it, so the language decides too.
 */
function is_rtl_locale( string $locale = '' ): bool {
	if ( '' === $locale ) {
		if ( is_rtl() ) {
			return true;
		}
		$locale = determine_locale();
	}
	$language = strtolower( (string) strtok( $locale, '_-' ) );
	return in_array( $language, RTL_LANGUAGES, true );
}

/**
 * The dir="" and lang="" attributes of a wrapper of the plugin's markup (with a leading space).
 */
function dir_attributes(): string {
	$locale = determine_locale();
	return sprintf( ' dir="%s" lang="%s"', is_rtl_locale() ? 'rtl' : 'ltr', esc_attr( str_replace( '_', '-', $locale ) ) );
}

/**
 * The WordPress locale for a language the sidecar names ("ar", "en", "en_US"...), '' for none.
 */
function wp_locale_for( string $language ): string {
	if ( ! preg_match( '/^[a-z]{2,3}(?:[_-][A-Za-z]{2,4})?$/', $language ) ) {
		return '';
	}
	$locale = str_replace( '-', '_', $language );
	return 'en' === $locale ? 'en_US' : $locale;
}

/**
 * Runs $compose with the plugin's texts (and core's, when installed) in $locale, then puts the
 * request's locale back.
 *
 * @param string   $locale  A WordPress locale.
 * @param callable $compose Called with no argument; its result is returned.
 * @return mixed
 */
function in_locale( string $locale, callable $compose ) {
	$current  = determine_locale();
	$switched = $locale !== $current && switch_to_locale( $locale );
	if ( ! $switched && $locale !== $current ) {
		// Core's translation of $locale is not installed: switch the plugin's own texts only.
		load_plugin_translations( $locale );
	}
	try {
		return $compose();
	} finally {
		if ( $switched ) {
			restore_previous_locale();
		} elseif ( $locale !== $current ) {
			load_plugin_translations( $current );
		}
	}
}
