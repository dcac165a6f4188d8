#!/usr/bin/env bash
# Run the whole test suite: lint, format check, type check, the PHP coding standard (phpcs), then
# pytest (unit, MariaDB, browser, real WordPress).
#
# The real-WordPress tests need Debian's wordpress package and root to set it up; without them they
# skip locally with the reason printed (in CI, where CI=true, they fail instead of skipping).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"

echo "== lint and types"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"

# The WordPress plugin's PHP against phpcs.xml.dist (the standard and the reasons for it are there).
echo "== phpcs (wp_bridge/wordpress against phpcs.xml.dist)"
if command -v phpcs >/dev/null; then
  phpcs --standard=phpcs.xml.dist
elif [ "${CI:-}" = true ]; then
  echo "phpcs is missing (apt-get install php-codesniffer)" >&2
  exit 1
else
  echo "phpcs is not installed (apt-get install php-codesniffer): skipped here; CI fails without it"
fi

if [ "$(id -u)" = 0 ] && [ -d /usr/share/wordpress ] && command -v php >/dev/null; then
  echo "== setting up the local test WordPress (.ci/wordpress-setup.sh)"
  WP_SKIP_APT=1 bash .ci/wordpress-setup.sh /tmp/therapy-wp.env
  export THERAPY_WP_ENV=/tmp/therapy-wp.env
  trap 'bash .ci/wordpress-stop.sh >/dev/null 2>&1 || true' EXIT
else
  echo "== no local WordPress (needs root and Debian's wordpress package): real-WordPress tests will skip"
fi

echo "== pytest"
"$VENV/bin/pytest" "$@"
