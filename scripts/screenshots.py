"""Take the README's screenshots: the demo's registration, status and thank-you pages in English and
Arabic, on a phone (390 x 844) and on a desktop (1280 x 800).

    make screenshots            # or: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Needs the test extra (Playwright) and Debian's Chromium (/usr/bin/chromium). It runs its own demo
stack on free ports with SQLite in a temporary folder, so nothing else has to be running. The status
page is shown after a declined card (its sentence and "Try again" stay on screen); the thank-you
page after an approved one, with its receipt.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sidecar.sandbox.demo import DemoStack, build_demo

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
LANGUAGES = ("en", "ar")
PERSON = {
    "first_name": "Amal",
    "last_name": "Haddad",
    "phone": "+966 50 000 0000",
    "street1": "King Fahd Road 12",
    "city": "Riyadh",
}
APPROVE, DECLINE = "4111 1111 1111 1111", "4000 0000 0000 0002"
TIMEOUT_MS = 20_000


def main(argv: list[str] | None = None) -> int:
    """Take every screenshot; print each file as it is written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Playwright is missing: pip install -e '.[test]'", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the demo servers' access lines
    with tempfile.TemporaryDirectory() as data, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        stack = build_demo(port_base=0, data_dir=Path(data), poll=0.1)
        with stack:
            for number, (lang, size) in enumerate((la, si) for la in LANGUAGES for si in SIZES):
                shoot_journeys(browser, stack, args.out, lang, size, number)
        browser.close()
    return 0


def shoot_journeys(
    browser: Any, stack: DemoStack, out: Path, lang: str, size: str, number: int
) -> None:
    """Registration and a declined card (status page), then a paid registration (thank-you)."""
    group = stack.groups[0]
    form_url = f"{stack.wordpress_url}/therapy-registration/?group={group.id}&lang={lang}"
    context = browser.new_context(viewport=SIZES[size], locale="ar" if lang == "ar" else "en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(form_url)
    save(page, out / f"{lang}-{size}-registration.png")
    fill_and_pay(page, stack, f"decline.{lang}.{size}.{number}@example.com", DECLINE)
    page.wait_for_url(f"{stack.wordpress_url}/therapy-registration-status/**")
    time.sleep(0.5)  # the status script's first answer (the failure sentence stays)
    save(page, out / f"{lang}-{size}-status.png")
    page.goto(form_url)
    fill_and_pay(page, stack, f"paid.{lang}.{size}.{number}@example.com", APPROVE)
    page.wait_for_url(f"{stack.wordpress_url}/thank-you/**")
    save(page, out / f"{lang}-{size}-thank-you.png")
    context.close()


def fill_and_pay(page: Any, stack: DemoStack, email: str, card: str) -> None:
    """Fill in the form, continue to the PayTabs simulator and pay with ``card``."""
    for name, value in {**PERSON, "email": email}.items():
        page.fill(f"input[name={name}]", value)
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.paytabs_url}/payment/page/**")
    page.fill("input[name=card_number]", card)
    page.click("#pay")


def save(page: Any, path: Path) -> None:
    """Save a full-page screenshot of ``page`` and say where."""
    page.screenshot(path=str(path), full_page=True)
    print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
