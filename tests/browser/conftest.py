"""Browser tests: Debian's headless Chromium (Playwright) against the stack `sidecar demo` runs.

Each test gets its own demo stack on free ports (``sidecar.sandbox.demo.build_demo``, the demo's own
builder) and its own browser context (cookies). A failed test leaves a screenshot of every page
it had open in ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sidecar.sandbox.demo import DemoStack, build_demo
from tests.browser.flows import TIMEOUT_MS, Buyer


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item (``rep_call``) for the screenshot finalizer."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoStack]:
    """The demo's stack on free ports, SQLite in tmp_path; the worker polls every 0.1 s."""
    stack = build_demo(port_base=0, data_dir=tmp_path / "demo", poll=0.1)
    stack.sim.configure(ipn_delay_seconds=0.2)
    with stack:
        yield stack


@pytest.fixture
def context(chromium: Any, demo: DemoStack, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context; on failure its pages are saved to test-artifacts/."""
    ctx = chromium.new_context(**getattr(request, "param", {}))
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            save_screenshots(ctx, request)
        ctx.close()


@pytest.fixture
def buyer(context: Any, demo: DemoStack) -> Buyer:
    """A buyer in a new page of the test's browser context."""
    return Buyer(context.new_page(), demo)


def save_screenshots(ctx: Any, request: pytest.FixtureRequest) -> None:
    """Save a full-page screenshot of every open page of ``ctx``."""
    folder = request.config.rootpath / "test-artifacts"
    folder.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for index, page in enumerate(ctx.pages):
        page.screenshot(path=str(folder / f"{name}-{index}.png"), full_page=True)
