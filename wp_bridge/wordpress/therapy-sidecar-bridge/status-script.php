<?php
/**
 * The status page's script (inline JavaScript, registered by status.php).
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/**
 * The status page's script: therapySidecarStatus(c) polls c.statusUrl every c.interval ms, shows the
 * sidecar's message in the box #c.id, and sends the browser on (login link, login form or thank-you
 * page) when the sidecar gives a same-site or http(s) address. c is built by shortcode_status().
 */
function status_script_source(): string {
	return <<<'JS'
window.therapySidecarStatus = function (c) {
	var box = document.getElementById(c.id);
	if (!box || !window.fetch) {
		return;
	}
	var msg = box.querySelector(".therapy-sidecar-status__message");
	var back = box.querySelector(".therapy-sidecar-status__back");
	var bad = ["payment_failed", "expired", "refunding", "refunded", "needs_attention"];
	var t0 = Date.now(), stopped = false;
	function say(s) {
		if (typeof s === "string" && s) {
			msg.textContent = s;
		}
	}
	function stop(showBack) {
		stopped = true;
		box.setAttribute("data-done", "1");
		if (showBack && back) {
			back.hidden = false;
		}
	}
	function later() {
		if (!stopped) {
			setTimeout(poll, c.interval);
		}
	}
	function safe(u) {
		return typeof u === "string" && /^(https?:\/\/|\/(?!\/))/i.test(u);
	}
	function poll() {
		if (Date.now() - t0 > c.maxWaitMs) {
			say(c.texts.timeout);
			stop(true);
			return;
		}
		fetch(c.statusUrl, {credentials:"include", cache:"no-store", headers:{"Accept":"application/json"}})
			.then(function (r) {
				if (r.status === 404) {
					say(c.texts.notFound);
					stop(true);
					return null;
				}
				if (!r.ok) {
					throw new Error("HTTP " + r.status);
				}
				return r.json();
			})
			.then(function (d) {
				if (!d || stopped) {
					return;
				}
				// After a failed payment (c.failed) the intent awaits payment again: keep the failure sentence.
				if (!(c.failed && d.state === "awaiting_payment")) {
					say(d.message);
				}
				// Logged in already: the thank-you page, never the spent login link again.
				var ways = c.loggedIn ? [d.redirect_url] : [d.login_url, d.login_page_url, d.redirect_url];
				var next = ways.filter(safe)[0] || null;
				if (next) {
					stop(false);
					window.location.assign(next);
					return;
				}
				if (bad.indexOf(d.state) !== -1 && back) {
					back.hidden = false;
				}
				if (d.done) {
					stop(d.state !== "fulfilled");
					return;
				}
				later();
			})
			.catch(function () {
				if (!c.failed) {
					say(c.texts.retrying);
				}
				later();
			});
	}
	// Back to a page from the browser's cache: load it again, so that polling starts afresh.
	window.addEventListener("pageshow", function (e) {
		if (e.persisted) {
			window.location.reload();
		}
	});
	poll();
};
JS;
}
