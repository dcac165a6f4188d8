"""`sidecar demo`: one command, no configuration, a full payment, and a clean Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import requests
from click.testing import CliRunner
from dotenv import dotenv_values

from sidecar.cli import ops as cli_ops
from sidecar.cli.main import cli
from sidecar.sandbox.demo import (
    FIRST_PORT,
    LAST_PORT,
    build_demo,
    instructions,
    port_base_problem,
)
from sidecar.sandbox.demo_env import cli_command
from tests.browser.flows import PERSON, hidden_value

SIDECAR = str(Path(sys.executable).parent / "sidecar")


class DemoProcess:
    """``sidecar demo`` in a child process, its output read line by line in a thread."""

    def __init__(self, cwd: Path, *args: str) -> None:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SIDECAR_", "WP_", "PAYTABS_"))
        }
        self.process = subprocess.Popen(
            [SIDECAR, "demo", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        stream.close()

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """Return the first output line matching ``pattern`` (regex)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.lines)
                continue
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(self.lines)}")

    def interrupt(self, timeout: float = 15.0) -> tuple[int, str]:
        """Send SIGINT (Ctrl-C); return the exit code and the whole output."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout)
        self._reader.join(5)
        while not self._queue.empty():
            self.lines.append(self._queue.get())
        return code, "".join(self.lines)

    def kill(self) -> None:
        """Make sure the child is gone (after a failed test)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def demo_process(tmp_path: Path) -> Iterator[DemoProcess]:
    """The demo on free ports, run from an empty folder with no SIDECAR_/WP_/PAYTABS_ settings."""
    child = DemoProcess(tmp_path, "--port-base", "0")
    try:
        yield child
    finally:
        child.kill()


def test_demo_command_takes_a_payment_and_stops_cleanly_on_ctrl_c(
    demo_process: DemoProcess,
) -> None:
    registration = demo_process.wait_for(r"Open (http://127\.0\.0\.1:\d+/therapy-registration/)")[1]
    sidecar = demo_process.wait_for(r"sidecar\s+(http://127\.0\.0\.1:\d+)")[1]
    paytabs = demo_process.wait_for(r"PayTabs simulator\s+(http://127\.0\.0\.1:\d+)")[1]
    data_dir = Path(demo_process.wait_for(r"data\s+(\S+)")[1])
    demo_process.wait_for("Press Ctrl-C to stop")
    with requests.Session() as browser:
        page = browser.get(registration, timeout=10)
        assert page.status_code == 200
        for name in (
            "Anxiety Support Circle",
            "Grief and Loss Group",
            "Mindful Parenting Workshop",
        ):
            assert name in page.text
        ref = _checkout(browser, page.text, sidecar, paytabs)
        tran_ref = next(t["tran_ref"] for t in _ledger(paytabs) if t["cart_id"] == ref)
        paid = requests.post(f"{paytabs}/_sim/pay/{tran_ref}", json={}, timeout=10)
        assert paid.status_code == 200 and paid.json()["respStatus"] == "A"
        status = _wait_until_done(browser, f"{sidecar}/therapy/status/{ref}")
        assert status["state"] == "fulfilled"  # the IPN and the worker thread did it
        thank_you = browser.get(status["login_url"], timeout=10)
        assert "Logged in as amal@example.com" in thank_you.text
    code, output = demo_process.interrupt()
    assert code == 0, output
    assert "Traceback" not in output
    assert output.rstrip().endswith("Stopped.")
    assert not data_dir.exists()  # the temporary SQLite folder is removed


def _checkout(browser: requests.Session, form_page: str, sidecar: str, paytabs: str) -> str:
    """Post the registration form to the sidecar; return the intent ref of the status cookie."""
    group_id = re.search(r"<option value='(\d+)'", form_page)
    assert group_id is not None
    form = {
        **PERSON,
        "group_id": group_id[1],
        "email": "amal@example.com",
        "country": "SA",
        "form_token": hidden_value(form_page, "form_token"),
        "idempotency_key": hidden_value(form_page, "idempotency_key"),
    }
    answer = browser.post(f"{sidecar}/therapy/checkout", data=form, allow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"].startswith(f"{paytabs}/payment/page/")
    [cookie] = [c for c in browser.cookies if c.name.startswith("tps_")]
    return cookie.name.removeprefix("tps_")


def _ledger(paytabs: str) -> list[dict[str, str]]:
    answer = requests.get(f"{paytabs}/_sim/ledger", timeout=10)
    assert answer.status_code == 200
    ledger: list[dict[str, str]] = answer.json()
    return ledger


def _wait_until_done(browser: requests.Session, url: str, timeout: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, str] = browser.get(url, timeout=10).json()
        if status.get("done") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_demo_falls_back_to_free_ports_when_its_ports_are_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = build_demo(port_base=port, data_dir=tmp_path)
        try:
            assert stack.sidecar_url.startswith("http://127.0.0.1:")
            assert not stack.sidecar_url.endswith(f":{port}")
            assert stack.services.settings.public_url == stack.sidecar_url
        finally:
            stack.stop()


def test_demo_ignores_the_developers_env_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("SIDECAR_DATABASE_URL=mysql://nobody:x@192.0.2.1/none\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WP_BASE_URL", "http://localhost:9")
    monkeypatch.setenv("PAYTABS_BASE_URL", "http://localhost:9")
    stack = build_demo(port_base=0, data_dir=tmp_path / "demo")
    try:
        settings = stack.services.settings
        assert settings.database_url == f"sqlite:///{tmp_path / 'demo' / 'sidecar.sqlite3'}"
        assert settings.wp_base_url == stack.wordpress_url  # the origin the browser uses (CORS)
        assert settings.paytabs_base_url == stack.paytabs_url
        assert stack.services.credentials.get().profile_id == 100001  # from the demo wp_options
    finally:
        stack.stop()


def test_demo_writes_a_private_settings_file_and_prints_the_command_not_the_secret(
    tmp_path: Path,
) -> None:
    stack = build_demo(port_base=0, data_dir=tmp_path)
    try:
        assert stack.env_file is not None
        assert stat.S_IMODE(stack.env_file.stat().st_mode) == 0o600
        values = dotenv_values(stack.env_file)
        password = stack.services.settings.wp_api_app_password.reveal()
        assert values["WP_API_APP_PASSWORD"] == password
        assert values["SIDECAR_DATABASE_URL"] == stack.services.settings.database_url
        text = instructions(stack)
        assert f"export SIDECAR_ENV_FILE={stack.env_file}" in text
        assert password not in text
        assert stack.services.settings.shared_secret.reveal() not in text
    finally:
        stack.stop()


def test_demo_printed_command_makes_intents_list_check_and_audit_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SIDECAR_", "WP_", "PAYTABS_")):
            monkeypatch.delenv(name)
    cli_ops.register(cli)
    with build_demo(port_base=0, data_dir=tmp_path / "demo") as stack:
        assert stack.env_file is not None
        name, _, value = cli_command(stack.env_file).removeprefix("export ").partition("=")
        monkeypatch.setenv(name, value)
        runner = CliRunner()
        listed = runner.invoke(cli, ["intents", "list"])
        assert listed.exit_code == 0 and "0 intent(s)" in listed.output, listed.output
        checked = runner.invoke(cli, ["check"])
        assert checked.exit_code == 0, checked.output
        audited = runner.invoke(cli, ["audit"])  # the seed booking is the site's own, not an intent
        assert audited.exit_code == 0 and "0 discrepancy(ies)" in audited.output, audited.output


def _free_port_base(count: int = 3) -> int:
    """Return a port base whose ``count`` ports are all free right now (above 1024)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if not FIRST_PORT <= base <= LAST_PORT - count + 1:
            continue
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    pytest.skip("no three consecutive free ports")


def test_port_base_moves_every_url_the_demo_prints_and_writes(tmp_path: Path) -> None:
    base = _free_port_base()
    stack = build_demo(port_base=base, data_dir=tmp_path)
    try:
        urls = [f"http://127.0.0.1:{base + offset}" for offset in range(3)]
        assert [stack.sidecar_url, stack.paytabs_url, stack.wordpress_url] == urls
        text = instructions(stack)
        assert f"Open {urls[2]}/therapy-registration/" in text
        for url in urls:
            assert url in text
        printed = set(re.findall(r"http://127\.0\.0\.1:(\d+)", text))
        assert printed == {str(base + offset) for offset in range(3)}
        assert "is taken" not in text
        assert stack.env_file is not None
        values = dotenv_values(stack.env_file)
        assert values["SIDECAR_PUBLIC_URL"] == urls[0]
        assert values["PAYTABS_BASE_URL"] == urls[1]
        assert values["WP_BASE_URL"] == urls[2]
        written = set(re.findall(r"http://127\.0\.0\.1:(\d+)", stack.env_file.read_text()))
        assert written == {str(base + offset) for offset in range(3)}
        assert stack.services.settings.public_url == urls[0]
    finally:
        stack.stop()


@pytest.mark.parametrize("base", ["1", "80", "1023", "65534", "70000", "-5"])
def test_a_port_base_outside_the_unprivileged_range_is_refused(base: str) -> None:
    answer = CliRunner().invoke(cli, ["demo", "--port-base", base])
    assert answer.exit_code == 2, answer.output
    assert "Traceback" not in answer.output
    assert isinstance(answer.exception, SystemExit)  # click's usage error, not a crash
    assert "Invalid value for '--port-base'" in answer.output
    assert base in answer.output


def test_port_base_problem_spells_out_the_range() -> None:
    assert port_base_problem(0) is None  # free ports
    assert port_base_problem(FIRST_PORT) is None
    assert port_base_problem(LAST_PORT - 2) is None
    problem = port_base_problem(1000)
    assert problem is not None and "1000-1002" in problem and "from 1024 to 65533" in problem


def test_a_busy_port_is_named_in_one_line(tmp_path: Path) -> None:
    base = _free_port_base()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 1))  # the PayTabs simulator's port
        taken.listen()
        stack = build_demo(port_base=base, data_dir=tmp_path)
        try:
            assert stack.taken == {"paytabs": base + 1}
            lines = [line for line in instructions(stack).splitlines() if "is taken" in line]
            assert lines == [
                f"Port {base + 1} (PayTabs simulator) is taken: using {stack.paytabs_url} instead."
            ]
            assert stack.sidecar_url.endswith(f":{base}")
            assert stack.wordpress_url.endswith(f":{base + 2}")
        finally:
            stack.stop()


def test_make_demo_passes_the_port_base_through() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make")
    root = Path(__file__).resolve().parents[2]

    def dry_run(*args: str) -> str:
        done = subprocess.run(
            [make, "-n", "-C", str(root), "demo", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    assert "sidecar demo --port-base 9100" in dry_run("PORT_BASE=9100")
    assert "sidecar demo --port-base 8000" in dry_run()  # `make demo` with no argument
