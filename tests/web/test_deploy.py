"""Deployment files: systemd units (systemd-analyze), gunicorn settings, env templates, nginx example."""

from __future__ import annotations

import datetime
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from dotenv import dotenv_values

from sidecar.core import config as config_module
from sidecar.core.config import load_settings
from sidecar.web import gunicorn_conf
from tests.conftest import require_component

ROOT = Path(__file__).resolve().parents[2]
UNITS = {
    name: ROOT / "systemd" / f"therapy-sidecar-{name}.service"
    for name in ("web", "worker", "migrate")
}
SOCKET = ROOT / "systemd" / "therapy-sidecar-web.socket"
VENV_BIN = "/opt/therapy-sidecar/venv/bin/"
STATE_DIR = "/var/lib/therapy-sidecar"
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ReadWritePaths": STATE_DIR,
    "StateDirectory": "therapy-sidecar",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "LockPersonality": "yes",
    "RestrictRealtime": "yes",
    "SystemCallFilter": "@system-service",
    "UMask": "0077",
    "User": "therapy-sidecar",
    "EnvironmentFile": "/etc/therapy-sidecar/sidecar.env",
    "WorkingDirectory": STATE_DIR,
}


def unit_settings(path: Path) -> dict[str, list[str]]:
    """Return each key of a unit file with all its values (systemd allows repeated keys)."""
    found: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def systemd_analyze() -> str:
    """Return the systemd-analyze binary, skipping (locally) or failing (CI) without it."""
    binary = shutil.which("systemd-analyze")
    require_component(binary is not None, "systemd-analyze not installed (apt-get install systemd)")
    assert binary is not None
    return binary


@pytest.fixture
def unit_copies(tmp_path: Path) -> dict[str, Path]:
    """Copies of the units whose ExecStart binaries point at stub executables in tmp_path.

    systemd-analyze verify checks that every Exec* command exists and is executable; the real
    paths live in /opt/therapy-sidecar/venv, which a build machine does not have.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("gunicorn", "sidecar"):
        stub = bin_dir / name
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    copies = {}
    for name, unit in {**UNITS, "socket": SOCKET}.items():
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(VENV_BIN, f"{bin_dir}/"))
        copies[name] = copy
    return copies


def verify(binary: str, *units: Path) -> subprocess.CompletedProcess[str]:
    """Run ``systemd-analyze verify`` on unit files (no man page lookups: none are referenced)."""
    return subprocess.run(
        [binary, "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_units_verify_clean(unit_copies: dict[str, Path]) -> None:
    result = verify(systemd_analyze(), *unit_copies.values())
    # verify exits 0 even for unknown keys (it only warns): the output must be empty too.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" and result.stdout.strip() == ""


def test_units_verify_reports_a_broken_unit(unit_copies: dict[str, Path]) -> None:
    broken = unit_copies["web"]
    text = broken.read_text().replace(
        "ProtectSystem=strict", "ProtectSystem=stritc\nRestartt=always"
    )
    broken.write_text(text)
    result = verify(systemd_analyze(), broken)
    assert "stritc" in result.stderr and "Restartt" in result.stderr


def test_units_verify_needs_the_binaries(unit_copies: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "bin" / "gunicorn").unlink()
    result = verify(systemd_analyze(), unit_copies["web"])
    assert result.returncode != 0 and "gunicorn" in result.stderr


def test_units_security_exposure_is_low(unit_copies: dict[str, Path]) -> None:
    binary = systemd_analyze()
    for copy in (path for name, path in unit_copies.items() if name != "socket"):
        result = subprocess.run(
            [binary, "security", "--offline=yes", "--no-pager", str(copy)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
        assert match, result.stdout[-500:] + result.stderr
        assert float(match.group(1)) <= 2.0, f"{copy.name}: {match.group(1)}"


@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_are_hardened_and_run_as_the_service_user(name: str) -> None:
    settings = unit_settings(UNITS[name])
    for key, value in HARDENING.items():
        assert settings.get(key) == [value], f"{name}: {key}={settings.get(key)}"


def test_units_web_runs_gunicorn_with_the_shipped_config() -> None:
    web = unit_settings(UNITS["web"])
    assert web["ExecStart"] == [f"{VENV_BIN}gunicorn --config python:sidecar.web.gunicorn_conf"]
    assert web["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert web["Type"] == ["notify"]
    assert web["Restart"] == ["on-failure"]


def test_units_worker_is_one_sidecar_worker_restarted_on_failure() -> None:
    worker = unit_settings(UNITS["worker"])
    assert worker["ExecStart"] == [f"{VENV_BIN}sidecar worker"]
    assert worker["Restart"] == ["on-failure"]
    assert "ExecReload" not in worker


def test_units_migrations_run_before_web_and_worker() -> None:
    migrate = unit_settings(UNITS["migrate"])
    assert migrate["Type"] == ["oneshot"]
    assert migrate["ExecStart"] == [f"{VENV_BIN}sidecar migrate"]
    for name in ("web", "worker"):
        settings = unit_settings(UNITS[name])
        assert "therapy-sidecar-migrate.service" in settings["Requires"][0].split()
        assert "therapy-sidecar-migrate.service" in settings["After"][0].split()


def test_units_web_socket_is_held_by_systemd_on_the_gunicorn_address() -> None:
    socket = unit_settings(SOCKET)
    web = unit_settings(UNITS["web"])
    assert socket["ListenStream"] == [gunicorn_conf.bind] == ["127.0.0.1:8000"]
    assert "therapy-sidecar-web.socket" in web["Requires"][0].split()
    assert "therapy-sidecar-web.socket" in web["After"][0].split()
    nginx = (ROOT / "deploy" / "nginx" / "therapy-sidecar.conf").read_text()
    assert "server 127.0.0.1:8000;" in nginx


def test_gunicorn_workers_default_from_cores_and_capped() -> None:
    assert gunicorn_conf.default_workers(1) == 3
    assert gunicorn_conf.default_workers(2) == 5
    assert gunicorn_conf.default_workers(32) == gunicorn_conf.MAX_WORKERS


def test_gunicorn_env_overrides_and_refuses_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIDECAR_WEB_WORKERS", "3")
    assert gunicorn_conf._int_env("SIDECAR_WEB_WORKERS", 5) == 3
    for bad in ("0", "lots", "-2"):
        monkeypatch.setenv("SIDECAR_WEB_WORKERS", bad)
        with pytest.raises(SystemExit, match="SIDECAR_WEB_WORKERS"):
            gunicorn_conf._int_env("SIDECAR_WEB_WORKERS", 5)


def test_gunicorn_settings_are_valid_gunicorn_settings() -> None:
    from gunicorn.config import Config

    cfg = Config()
    names = [name for name in vars(gunicorn_conf) if name in cfg.settings]
    for name in names:
        cfg.set(name, getattr(gunicorn_conf, name))
    assert {"wsgi_app", "bind", "workers", "access_log_format", "logger_class"} <= set(names)
    assert cfg.worker_class_str == "gthread"
    assert cfg.secure_scheme_headers == {}
    assert cfg.control_socket_disable is True


def test_gunicorn_without_settings_stops_with_one_message_and_no_traceback(
    tmp_path: Path,
) -> None:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [str(gunicorn), "--config", "python:sidecar.web.gunicorn_conf", "--bind", "127.0.0.1:0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SIDECAR_PUBLIC_URL is required but not set" in result.stderr
    assert "Traceback" not in result.stderr and "Worker failed to boot" not in result.stderr


def test_gunicorn_access_log_format_has_no_query_cookie_or_token() -> None:
    fmt = gunicorn_conf.access_log_format
    assert "%(U)s" in fmt
    for atom in ("%(q)s", "%(r)s", "%(f)s", "{cookie}", "{authorization}", "{signature}"):
        assert atom not in fmt.lower()


@pytest.fixture
def clean_root_logger() -> Iterator[None]:
    """Restore the root logger's handlers and level after a test that configures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_gunicorn_json_logger_writes_path_only(
    capsys: pytest.CaptureFixture[str], clean_root_logger: None
) -> None:
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", gunicorn_conf.access_log_format)
    logger = gunicorn_conf.JsonLogger(cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/paytabs/return?signature=abc123SECRET",
        "PATH_INFO": "/paytabs/return",
        "QUERY_STRING": "signature=abc123SECRET",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_COOKIE": "tps_ref=browsersecretCOOKIE",
    }
    request = SimpleNamespace(
        headers=[("COOKIE", "tps_ref=browsersecretCOOKIE"), ("X-REQUEST-ID", "r1")]
    )
    response = SimpleNamespace(status="303 See Other", sent=0, headers=[])
    logger.access(response, request, environ, datetime.timedelta(milliseconds=5))
    out = capsys.readouterr().out.strip().splitlines()
    line = __import__("json").loads(out[-1])
    assert line["logger"] == "gunicorn.access" and line["role"] == "web"
    assert '"GET /paytabs/return" 303' in line["message"] and "rid=r1" in line["message"]
    assert "SECRET" not in out[-1] and "COOKIE" not in out[-1]
    for handler in (*logger.error_log.handlers, *logger.access_log.handlers):
        logger.error_log.removeHandler(handler)
        logger.access_log.removeHandler(handler)


def test_env_example_documents_every_setting() -> None:
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    source = Path(config_module.__file__).read_text()
    named = set(re.findall(r'"((?:SIDECAR|WP|PAYTABS)_[A-Z0-9_]+)"', source))
    named -= {"SIDECAR_IGNORE_DOTENV", "SIDECAR_IGNORE_ENVIRON"}
    assert named, "no setting names found in sidecar/core/config.py"
    assert named - documented == set()
    for process_setting in ("SIDECAR_WEB_WORKERS", "SIDECAR_WEB_BIND", "SIDECAR_LOG_LEVEL"):
        assert process_setting in documented


def test_env_deploy_example_loads_and_writes_only_in_the_state_dir() -> None:
    env = {k: v or "" for k, v in dotenv_values(ROOT / "deploy" / "sidecar.env.example").items()}
    # The example's two secrets are placeholders that settings refuse; an operator replaces them.
    env.update(SIDECAR_SHARED_SECRET="r" * 48, WP_API_APP_PASSWORD="abcd efgh ijkl mnop qrst uvwx")
    settings = load_settings(env, instance_path="/nonexistent")
    assert settings.environment == "production"
    assert settings.trusted_proxies == 1
    assert settings.public_url.startswith("https://")
    for url in (settings.database_url, settings.ratelimit_storage):
        assert url.startswith(f"sqlite:///{STATE_DIR}/")


def test_nginx_example_proxies_the_prefix_with_forwarded_headers() -> None:
    text = (ROOT / "deploy" / "nginx" / "therapy-sidecar.conf").read_text()
    assert re.search(r"listen 80;.*?return 301 https://\$host\$request_uri;", text, re.S)
    assert "location ^~ /sidecar/" in text
    assert "proxy_pass http://therapy_sidecar/;" in text and "server 127.0.0.1:8000;" in text
    assert "client_max_body_size 64k;" in text
    for header in (
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "X-Forwarded-Prefix",
    ):
        assert f"proxy_set_header {header} " in text
    assert "$request_uri" not in text.split("log_format", 1)[1].split(";", 1)[0]
    assert "$args" not in text and "$query_string" not in text


def test_nginx_example_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    require_component(nginx is not None, "nginx not installed (apt-get install nginx-light)")
    assert nginx is not None
    cert, key = _self_signed(tmp_path)
    site = (ROOT / "deploy" / "nginx" / "therapy-sidecar.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/example.org/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    main = f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{ access_log off; include {tmp_path}/site.conf; }}\n"
    (tmp_path / "nginx.conf").write_text(main)
    result = subprocess.run(
        [nginx, "-t", "-q", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """Write a throwaway self-signed certificate for nginx -t."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.org")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_console_scripts_the_units_call_are_installed() -> None:
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "sidecar").exists(), "pip install -e . puts the sidecar command in the venv"
    assert (bin_dir / "gunicorn").exists()
