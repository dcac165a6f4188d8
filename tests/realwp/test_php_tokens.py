"""The plugin's PHP token code and wp_bridge.tokens agree (the fixed vector of tests/wp_bridge/test_tokens.py).

Runs tokens.php with the php CLI and a few stand-ins for WordPress functions; no WordPress needed.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.realwp.helpers import REPO_ROOT, run_php
from wp_bridge.tokens import sign_token, verify_token

pytestmark = pytest.mark.realwp

SECRET = "sandbox-shared-secret-0123456789abcdef"
VECTOR_PAYLOAD = {
    "typ": "login",
    "uid": 42,
    "ref": "TP-2024-0001",
    "jti": "0123456789abcdef0123456789abcdef",
    "exp": 1700000300,
}
VECTOR_TOKEN = (
    "eyJ0eXAiOiJsb2dpbiIsInVpZCI6NDIsInJlZiI6IlRQLTIwMjQtMDAwMSIsImp0aSI6IjAxMjM0NTY3ODlhYmNk"
    "ZWYwMTIzNDU2Nzg5YWJjZGVmIiwiZXhwIjoxNzAwMDAwMzAwfQ"
    ".AWppPzCiz4vmUV57B0Sw3VQsuXanUFIvY05iWFdMB0c"
)
TOKENS_PHP = REPO_ROOT / "wp_bridge" / "wordpress" / "therapy-sidecar-bridge" / "tokens.php"

HARNESS = r"""<?php
namespace { define('ABSPATH', '/'); define('THERAPY_SIDECAR_SHARED_SECRET', %(secret)s);
  class WP_Error { public function __construct(public $code = '', public $message = '', public $data = null) {}
    public function get_error_code() { return $this->code; } }
  function wp_json_encode($v, $f = 0) { return json_encode($v, $f); }
  function is_wp_error($v) { return $v instanceof WP_Error; }
  require %(tokens)s;
  $out = array();
  $check = function ($token, $typ, $now) { $r = TherapySidecar\verify_token($token, $typ, $now);
    return is_wp_error($r) ? $r->get_error_code() : $r; };
  $out['vector'] = $check(%(vector)s, 'login', 1700000000);
  $out['vector_expired'] = $check(%(vector)s, 'login', 1700000300);
  $out['vector_wrong_typ'] = $check(%(vector)s, 'form', 1700000000);
  $out['vector_tampered'] = $check(%(vector)s . 'x', 'login', 1700000000);
  $out['python_made'] = $check(%(python)s, 'form', time());
  $out['not_object'] = $check(%(not_object)s, 'login', 1700000000);
  $out['signed'] = TherapySidecar\sign_token(json_decode(%(payload)s, true));
  echo json_encode($out);
}
"""


def _php_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_php_and_python_tokens_agree() -> None:
    now = int(time.time())
    python_made = sign_token(
        {"typ": "form", "uid": 7, "email": "a@b.test", "exp": now + 60, "nonce": "n1"}, SECRET
    )
    import base64
    import hashlib
    import hmac

    body = base64.urlsafe_b64encode(b"[1,2]").rstrip(b"=").decode()
    sig = (
        base64.urlsafe_b64encode(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest())
        .rstrip(b"=")
        .decode()
    )
    code = HARNESS % {
        "secret": _php_str(SECRET),
        "tokens": _php_str(str(TOKENS_PHP)),
        "vector": _php_str(VECTOR_TOKEN),
        "python": _php_str(python_made),
        "not_object": _php_str(f"{body}.{sig}"),
        "payload": _php_str(json.dumps(VECTOR_PAYLOAD)),
    }
    result = run_php(code)
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert out["vector"] == VECTOR_PAYLOAD
    assert out["vector_expired"] == "therapy_token_expired"
    assert out["vector_wrong_typ"] == "therapy_token_invalid"
    assert out["vector_tampered"] == "therapy_token_invalid"
    assert out["not_object"] == "therapy_token_invalid"
    assert out["python_made"]["uid"] == 7
    assert out["python_made"]["email"] == "a@b.test"
    # PHP signs the same payload into the same token, which Python accepts.
    assert out["signed"] == VECTOR_TOKEN
    assert verify_token(out["signed"], SECRET, typ="login", now=1_700_000_000) == VECTOR_PAYLOAD


ROTATION_HARNESS = r"""<?php
namespace { define('ABSPATH', '/'); define('THERAPY_SIDECAR_SHARED_SECRET', %(secret)s);
  define('THERAPY_SIDECAR_SHARED_SECRET_ALSO_ACCEPTED', %(other)s);
  class WP_Error { public function __construct(public $code = '', public $message = '', public $data = null) {}
    public function get_error_code() { return $this->code; } }
  function wp_json_encode($v, $f = 0) { return json_encode($v, $f); }
  function is_wp_error($v) { return $v instanceof WP_Error; }
  require %(tokens)s;
  $check = function ($token) { $r = TherapySidecar\verify_token($token, 'login', time());
    return is_wp_error($r) ? $r->get_error_code() : 'ok'; };
  echo json_encode(array('old' => $check(%(old)s), 'new' => $check(%(new)s),
    'stranger' => $check(%(stranger)s), 'signed' => TherapySidecar\sign_token(array('typ' => 'form', 'exp' => time() + 60))));
}
"""


def test_php_accepts_the_also_accepted_secret_during_a_rotation() -> None:
    """Mid-rotation the plugin verifies grants made with either secret and signs with its own."""
    new = "the-next-shared-secret-" + "n" * 20
    payload = {"typ": "login", "uid": 3, "jti": "j" * 32, "exp": int(time.time()) + 60}
    code = ROTATION_HARNESS % {
        "secret": _php_str(SECRET),
        "other": _php_str(new),
        "tokens": _php_str(str(TOKENS_PHP)),
        "old": _php_str(sign_token(payload, SECRET)),
        "new": _php_str(sign_token(payload, new)),
        "stranger": _php_str(sign_token(payload, "s" * 40)),
    }
    result = run_php(code)
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert (out["old"], out["new"], out["stranger"]) == ("ok", "ok", "therapy_token_invalid")
    assert verify_token(out["signed"], SECRET, typ="form", now=time.time())["typ"] == "form"
