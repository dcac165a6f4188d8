"""The one list of system packages (.ci/packages.txt) covers every package a script or test needs.

A package installed by hand on a developer's machine once let CI pass there and fail on a new one.
These checks make that a test failure instead: every package a script or test names must be on the
list, no script keeps a list of its own, and (on Debian) every program the tests run belongs to a
package the list brings in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
PACKAGES_FILE = ROOT / ".ci" / "packages.txt"

# Where scripts and tests name the packages they need ("(apt-get install NAME)" hints).
SCANNED = [".ci", "scripts", "tests", "sidecar", "wp_bridge"]
# The hints are written "(apt-get install NAME ...)" or `apt-get install NAME ...`.
HINT = re.compile(r"[(`]apt-get install ([a-z0-9][a-z0-9.+-]+(?: [a-z0-9][a-z0-9.+-]+)*)[)`]")

# Programs the scripts and tests run, by the name they look them up with.
PROGRAMS = [
    "php",
    "mariadbd",
    "mariadb-install-db",
    "mariadb-admin",
    "mariadb",
    "chromium",
    "systemd-analyze",
    "systemd-socket-activate",
    "nginx",
    "make",
    "phpcs",
]


def listed_packages() -> set[str]:
    """The packages of .ci/packages.txt (comments and blank lines dropped)."""
    names = set()
    for line in PACKAGES_FILE.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.add(name)
    return names


def scanned_files() -> list[Path]:
    """Scripts and source files that may name a package."""
    files = []
    for folder in SCANNED:
        for path in (ROOT / folder).rglob("*"):
            if (
                path.is_file()
                and path.suffix in {".py", ".sh", ".php", ""}
                and path.name != "packages.txt"
            ):
                files.append(path)
    return files


def test_ci_packages_list_is_read_by_run_and_the_wordpress_setup() -> None:
    for script in (".ci/run", ".ci/wordpress-setup.sh"):
        assert ". " in (ROOT / script).read_text() and "packages.sh" in (ROOT / script).read_text()
    assert "packages.txt" in (ROOT / ".ci" / "packages.sh").read_text()


def test_ci_packages_every_named_package_is_listed() -> None:
    listed = listed_packages()
    missing = {}
    for path in scanned_files():
        for match in HINT.finditer(path.read_text(errors="replace")):
            for name in match.group(1).split():
                if name.startswith("-") or name in listed:
                    continue
                missing.setdefault(name, str(path.relative_to(ROOT)))
    assert not missing, f"named by a script or test but not in .ci/packages.txt: {missing}"


def test_ci_packages_no_script_installs_packages_of_its_own() -> None:
    offenders = []
    for path in scanned_files():
        if path.name == "packages.sh":
            continue
        for line in path.read_text(errors="replace").splitlines():
            if re.search(r"^\s*(apt-get|apt) install\b", line) or re.search(
                r"^\s*PACKAGES=\(", line
            ):
                offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert not offenders, offenders


@cache
def closure(packages: frozenset[str]) -> set[str]:
    """The listed packages and everything they depend on (recommends excluded, as CI installs)."""
    done = subprocess.run(
        [
            "apt-cache",
            "depends",
            "--recurse",
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
            *sorted(packages),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    names = set(packages)
    for line in done.stdout.splitlines():
        line = line.strip().removeprefix("|")
        name = line.split(": ", 1)[-1].strip()
        if name and not name.startswith("<"):
            names.add(name)
    return names


def owner(program: str) -> str | None:
    """The Debian package that ships the program found on PATH, if any."""
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if found is None:
        return None
    real = os.path.realpath(found)
    # dpkg may record a merged-/usr file under its old /bin or /sbin path.
    for path in (real, real.removeprefix("/usr")):
        done = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return done.stdout.split(":", 1)[0].strip()
    return None


def test_ci_packages_every_program_the_tests_run_comes_from_the_list() -> None:
    if shutil.which("dpkg") is None or shutil.which("apt-cache") is None:
        if IN_CI:
            pytest.fail(
                "dpkg and apt-cache are needed to check .ci/packages.txt (CI runs on Debian)"
            )
        pytest.skip("not a Debian machine: the package check needs dpkg and apt-cache")
    wanted = closure(frozenset(listed_packages()))
    found = {program: owner(program) for program in PROGRAMS}
    if IN_CI:
        absent = [program for program, package in found.items() if package is None]
        assert not absent, f"programs the tests run are not installed in CI: {absent}"
    strays = {p: pkg for p, pkg in found.items() if pkg is not None and pkg not in wanted}
    assert not strays, f"installed, but by no package of .ci/packages.txt (by hand?): {strays}"
