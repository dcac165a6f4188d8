<?php
/**
 * The status page's script (inline JavaScript, registered by status.php).
 */

namespace TherapySidecar;

defined( 'ABSPATH' ) || exit;

/**
 * The status page's script: therapySidecarStatus(c) asks c.statusUrl for the registration's state,
 * shows the sidecar's message in the box #c.id, and sends the browser on (login link, login form or
 * thank-you page) when the sidecar gives a same-site or http(s) address. c is built by
 * shortcode_status(). After the first answer it long-polls (wait=c.wait s, since=the state seen):
 * the sidecar answers as soon as the state changes. When the sidecar answered at once without a
 * change (all its waiting slots taken) the next ask comes after c.interval ms, after an error after
 * at most c.retryMs ms.
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
	var t0 = Date.now(), stopped = false, seen = null;
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
	function later(ms) {
		if (!stopped) {
			setTimeout(poll, ms);
		}
	}
	function address() {
		if (!seen || !c.wait) {
			return c.statusUrl;
		}
		return c.statusUrl + (c.statusUrl.indexOf("?") === -1 ? "?" : "&") +
			"wait=" + c.wait + "&since=" + encodeURIComponent(seen);
	}
	function offer(d) {
		var p = document.createElement("p");
		p.className = "therapy-sidecar-status__signin";
		[[d.sign_in_url, c.texts.signIn, "therapy-sidecar-login"], [d.password_url, c.texts.setPassword, "therapy-sidecar-lostpassword"]].forEach(function (l, i) {
			var a = document.createElement("a");
			a.href = l[0];
			a.textContent = l[1];
			a.className = l[2];
			if (i) {
				p.appendChild(document.createTextNode(" · "));
			}
			p.appendChild(a);
		});
		box.insertBefore(p, back);
	}
	function safe(u) {
		return typeof u === "string" && /^(https?:\/\/|\/(?!\/))/i.test(u);
	}
	// A declined or cancelled payment, to the paying browser: "Try again" (a fresh PayTabs page,
	// the place held until held_until_text, HH:MM in the site's timezone) or, once the hold is
	// over, the form refilled.
	function offerRetry(d) {
		if (!(d.can_retry || d.can_restart) || !safe(d.retry_url) || box.querySelector(".therapy-sidecar-status__retry")) {
			return;
		}
		var f = document.createElement("form");
		f.method = "post";
		f.action = d.retry_url;
		f.className = "therapy-sidecar-status__retry";
		if (d.can_retry && typeof d.held_until_text === "string") {
			var p = document.createElement("p");
			p.textContent = c.texts.heldUntil.replace("%s", d.held_until_text);
			f.appendChild(p);
		}
		var b = document.createElement("button");
		b.type = "submit";
		b.textContent = d.can_retry ? c.texts.retry : c.texts.restart;
		// PayTabs opens no second page for a cart within two minutes: the button waits until then.
		var wait = typeof d.retry_after === "string" ? Date.parse(d.retry_after) - Date.now() : 0;
		if (d.can_retry && wait > 0) {
			b.disabled = true;
			setTimeout(function () {
				b.disabled = false;
			}, wait);
		}
		f.appendChild(b);
		box.insertBefore(f, back);
	}
	function poll() {
		if (Date.now() - t0 > c.maxWaitMs) {
			say(c.texts.timeout);
			stop(true);
			return;
		}
		fetch(address(), {credentials:"include", cache:"no-store", headers:{"Accept":"application/json"}})
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
				var ways = c.loggedIn ? [d.redirect_url] : [d.login_url, d.login_page_url];
				var next = ways.filter(safe)[0] || null;
				// Paid, but this browser can neither log in by link nor is logged in (another device,
				// cookies gone): say so, with the login form and the set-password form.
				if (!next && !c.loggedIn && d.registered && safe(d.sign_in_url) && safe(d.password_url)) {
					offer(d);
					stop(false);
					return;
				}
				next = next || (safe(d.redirect_url) ? d.redirect_url : null);
				if (next) {
					stop(false);
					window.location.assign(next);
					return;
				}
				if (bad.indexOf(d.state) !== -1 && back) {
					back.hidden = false;
				}
				offerRetry(d);
				if (d.done) {
					stop(d.state !== "fulfilled");
					return;
				}
				// Held until a change or the end of the wait: ask again at once; answered at once
				// without a change: the sidecar is busy, so poll at the ordinary interval.
				var changed = d.state !== seen;
				seen = typeof d.state === "string" ? d.state : null;
				later(changed || d.waited ? 0 : c.interval);
			})
			.catch(function () {
				if (!c.failed) {
					say(c.texts.retrying);
				}
				later(Math.min(c.interval, c.retryMs || c.interval));
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
