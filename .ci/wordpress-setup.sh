#!/usr/bin/env bash
# Set up a real, local WordPress for the Therapy Pay Sidecar tests (tests/realwp).
#
#   sudo .ci/wordpress-setup.sh [ENV_FILE]        (default ENV_FILE: /tmp/therapy-wp.env)
#
# Debian 12, run as root. Non-interactive and idempotent: safe to run again; every run ends in the
# same known state (fresh application password, the two test groups emptied of bookings and members).
#
# What it does:
#   1. apt-get installs the packages of .ci/packages.txt that are missing (the one list CI reads);
#   2. starts MariaDB when it is not running (no systemd needed), creates the database and its user;
#   3. writes /etc/wordpress/config-127.0.0.1.php (Debian's per-host WordPress config);
#   4. copies the bridge mu-plugin, the fake BuddyPress REST plugin, the test mailbox and the test
#      hook recorder into /var/lib/wordpress/wp-content/mu-plugins/;
#   5. runs .ci/wordpress/install.php (wp_install, admin application password, the retreat's PayTabs
#      options, two therapy groups, their fake BuddyPress groups, the registration pages);
#   6. starts `php -S 127.0.0.1:$WP_PORT` (4 workers) with .ci/wordpress/router.php in the background
#      and waits for the REST index;
#   7. writes the resulting settings as KEY=VALUE lines to ENV_FILE.
#
# Environment knobs (all optional): WP_PORT (8080), WP_DB_NAME (wordpress), WP_DB_USER (therapy_wp),
# WP_DB_PASSWORD, WP_ADMIN_USER (admin), WP_ADMIN_PASSWORD, WP_ADMIN_EMAIL, SIDECAR_SHARED_SECRET,
# SIDECAR_URL (the sidecar's public base URL, for the shortcodes), PAYTABS_PROFILE_ID,
# PAYTABS_SERVER_KEY, PAYTABS_REGION, PAYTABS_CURRENCY, WP_SKIP_APT=1 (never call apt-get).
#
# Stop the web server with .ci/wordpress-stop.sh. This is a test site: plain http, fake payment keys,
# a fake BuddyPress. Never point it at real data.
set -euo pipefail

ENV_FILE="${1:-/tmp/therapy-wp.env}"
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CI_DIR="$REPO_DIR/.ci/wordpress"

WP_PORT="${WP_PORT:-8080}"
WP_HOST="127.0.0.1"
WP_BASE_URL="http://$WP_HOST:$WP_PORT"
WP_DB_NAME="${WP_DB_NAME:-wordpress}"
WP_DB_USER="${WP_DB_USER:-therapy_wp}"
WP_DB_PASSWORD="${WP_DB_PASSWORD:-therapy-wp-test-password}"
WP_TABLE_PREFIX="${WP_TABLE_PREFIX:-wp_}"
WP_ADMIN_USER="${WP_ADMIN_USER:-admin}"
WP_ADMIN_PASSWORD="${WP_ADMIN_PASSWORD:-therapy-admin-test-password}"
WP_ADMIN_EMAIL="${WP_ADMIN_EMAIL:-admin@example.test}"
SIDECAR_SHARED_SECRET="${SIDECAR_SHARED_SECRET:-therapy-sidecar-test-secret-not-for-production}"
SIDECAR_URL="${SIDECAR_URL:-}"
PAYTABS_PROFILE_ID="${PAYTABS_PROFILE_ID:-87654}"
PAYTABS_SERVER_KEY="${PAYTABS_SERVER_KEY:-SZJNTEST-REALSTACK-FAKE-SERVERKEY}"
PAYTABS_REGION="${PAYTABS_REGION:-SAU}"
PAYTABS_CURRENCY="${PAYTABS_CURRENCY:-SAR}"

WP_CODE_DIR=/usr/share/wordpress
WP_CONTENT_DIR=/var/lib/wordpress/wp-content
WP_CONFIG_FILE="/etc/wordpress/config-$WP_HOST.php"
WP_SALTS_FILE=/etc/wordpress/therapy-sidecar-salts.php
STATE_DIR="${THERAPY_WP_STATE_DIR:-/tmp/therapy-wp}"
PID_FILE="$STATE_DIR/php-server.pid"
SERVER_LOG="$STATE_DIR/php-server.log"
WP_DEBUG_LOG_FILE="$STATE_DIR/wp-debug.log"

log() { printf '[wordpress-setup %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and writes /etc/wordpress)"
case "$WP_PORT" in ''|*[!0-9]*) die "WP_PORT must be a number" ;; esac
for v in WP_DB_NAME WP_DB_USER WP_TABLE_PREFIX; do
    [[ "${!v}" =~ ^[A-Za-z0-9_]+$ ]] || die "$v may only contain letters, digits and _"
done
[[ "$WP_DB_PASSWORD" =~ ^[A-Za-z0-9_.-]+$ ]] || die "WP_DB_PASSWORD may only contain letters, digits, _ . -"
mkdir -p "$STATE_DIR"
START_TS=$(date +%s)

# --- 1. packages (the one list: .ci/packages.txt) ----------------------------------------------
# shellcheck source=packages.sh
. "$REPO_DIR/.ci/packages.sh"
missing=$(ci_missing_packages | tr '\n' ' ')
if [ -n "${missing// /}" ]; then
    [ "${WP_SKIP_APT:-0}" = 1 ] && die "missing packages and WP_SKIP_APT=1: $missing(run: bash .ci/run, or apt-get install them)"
    ci_install_packages || die "apt-get install failed"
else
    log "packages already installed"
fi

# --- 2. MariaDB --------------------------------------------------------------------------------
db_ping() { mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1; }
if ! db_ping; then
    log "starting MariaDB"
    if ! service mariadb start >"$STATE_DIR/mariadb-start.log" 2>&1; then
        log "service mariadb start failed (see $STATE_DIR/mariadb-start.log); trying mysqld_safe"
        mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
        setsid mysqld_safe >"$STATE_DIR/mysqld_safe.log" 2>&1 < /dev/null &
    fi
    for _ in $(seq 1 60); do db_ping && break; sleep 0.5; done
    db_ping || die "MariaDB did not start"
fi
log "MariaDB is up"
mariadb --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`$WP_DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$WP_DB_USER'@'localhost' IDENTIFIED BY '$WP_DB_PASSWORD';
CREATE USER IF NOT EXISTS '$WP_DB_USER'@'127.0.0.1' IDENTIFIED BY '$WP_DB_PASSWORD';
ALTER USER '$WP_DB_USER'@'localhost' IDENTIFIED BY '$WP_DB_PASSWORD';
ALTER USER '$WP_DB_USER'@'127.0.0.1' IDENTIFIED BY '$WP_DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$WP_DB_NAME\`.* TO '$WP_DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`$WP_DB_NAME\`.* TO '$WP_DB_USER'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
DB_PORT=$(mariadb --protocol=socket -uroot -N -B -e 'SELECT @@port')

# --- 3. wp-config (Debian per-host file) --------------------------------------------------------
export WP_PORT WP_HOST WP_BASE_URL WP_DB_NAME WP_DB_USER WP_DB_PASSWORD WP_TABLE_PREFIX \
    WP_ADMIN_USER WP_ADMIN_PASSWORD WP_ADMIN_EMAIL SIDECAR_SHARED_SECRET SIDECAR_URL \
    PAYTABS_PROFILE_ID PAYTABS_SERVER_KEY PAYTABS_REGION PAYTABS_CURRENCY \
    WP_CONTENT_DIR WP_CONFIG_FILE WP_SALTS_FILE WP_DEBUG_LOG_FILE WP_CODE_DIR
mkdir -p /etc/wordpress
php "$CI_DIR/write-config.php"
log "wrote $WP_CONFIG_FILE"

# --- 4. mu-plugins ------------------------------------------------------------------------------
MU_DIR="$WP_CONTENT_DIR/mu-plugins"
mkdir -p "$MU_DIR"
install -m 0644 "$REPO_DIR/wp_bridge/wordpress/therapy-sidecar-bridge.php" "$MU_DIR/therapy-sidecar-bridge.php"
rm -rf "$MU_DIR/therapy-sidecar-bridge"
if [ -d "$REPO_DIR/wp_bridge/wordpress/therapy-sidecar-bridge" ]; then
    cp -R "$REPO_DIR/wp_bridge/wordpress/therapy-sidecar-bridge" "$MU_DIR/therapy-sidecar-bridge"
fi
# Test-only plugins: a stand-in for BuddyPress's REST API and a mailbox that captures wp_mail().
install -m 0644 "$REPO_DIR/wp_bridge/wordpress/testing/fake-buddypress-rest.php" "$MU_DIR/fake-buddypress-rest.php"
install -m 0644 "$CI_DIR/test-mailbox.php" "$MU_DIR/therapy-test-mailbox.php"
# Test-only: records the bridge's therapy_sidecar_booking_cancelled action calls in options.
install -m 0644 "$CI_DIR/test-hooks.php" "$MU_DIR/therapy-test-hooks.php"
log "installed mu-plugins into $MU_DIR"

# --- 5. install WordPress and the test data -----------------------------------------------------
: > "$WP_DEBUG_LOG_FILE"
INSTALL_OUT="$STATE_DIR/install.env"
rm -f "$INSTALL_OUT"
php -d display_errors=stderr "$CI_DIR/install.php" "$INSTALL_OUT"
[ -s "$INSTALL_OUT" ] || die "install.php wrote no results"
log "WordPress installed and seeded"

# --- 6. web server ------------------------------------------------------------------------------
"$REPO_DIR/.ci/wordpress-stop.sh" >/dev/null 2>&1 || true
if php -r '$s=@fsockopen($argv[1],(int)$argv[2],$e,$m,0.5); exit($s?0:1);' "$WP_HOST" "$WP_PORT"; then
    die "port $WP_PORT is already in use by another program (set WP_PORT)"
fi
log "starting php -S $WP_HOST:$WP_PORT"
PHP_CLI_SERVER_WORKERS=4 setsid php -d display_errors=0 -d log_errors=1 \
    -S "$WP_HOST:$WP_PORT" -t "$WP_CODE_DIR" "$CI_DIR/router.php" \
    >"$SERVER_LOG" 2>&1 < /dev/null &
echo $! > "$PID_FILE"
ok=0
for _ in $(seq 1 100); do
    if php -r '$c=@file_get_contents($argv[1]); exit(($c!==false && str_contains($c,"\"namespaces\""))?0:1);' \
        "$WP_BASE_URL/?rest_route=/"; then ok=1; break; fi
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break
    sleep 0.2
done
[ $ok = 1 ] || { tail -20 "$SERVER_LOG" >&2 || true; die "WordPress did not answer on $WP_BASE_URL"; }
log "WordPress answers on $WP_BASE_URL"

# --- 7. env file --------------------------------------------------------------------------------
quote() {  # KEY=VALUE line that both `. file` and python-dotenv read back unchanged
    if [[ "$2" =~ ^[A-Za-z0-9_./:@%+=,-]*$ ]]; then printf '%s=%s\n' "$1" "$2"
    else printf "%s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; fi
}
tmp_env="$(mktemp "$ENV_FILE.XXXXXX")"
{
    echo "# Written by .ci/wordpress-setup.sh at $(date -u +%Y-%m-%dT%H:%M:%SZ); test site only."
    quote WP_BASE_URL "$WP_BASE_URL"
    quote WP_DATABASE_URL "mysql://$WP_DB_USER:$WP_DB_PASSWORD@127.0.0.1:$DB_PORT/$WP_DB_NAME"
    quote WP_TABLE_PREFIX "$WP_TABLE_PREFIX"
    quote WP_ADMIN_USER "$WP_ADMIN_USER"
    quote WP_ADMIN_PASSWORD "$WP_ADMIN_PASSWORD"
    quote SIDECAR_SHARED_SECRET "$SIDECAR_SHARED_SECRET"
    quote SIDECAR_URL "${SIDECAR_URL:-$WP_BASE_URL/sidecar}"
    quote PAYTABS_PROFILE_ID "$PAYTABS_PROFILE_ID"
    quote PAYTABS_SERVER_KEY "$PAYTABS_SERVER_KEY"
    quote PAYTABS_REGION "$PAYTABS_REGION"
    quote PAYTABS_CURRENCY "$PAYTABS_CURRENCY"
    quote WP_DEBUG_LOG "$WP_DEBUG_LOG_FILE"
    quote WP_SERVER_PID_FILE "$PID_FILE"
    cat "$INSTALL_OUT"
} > "$tmp_env"
chmod 0644 "$tmp_env"
mv "$tmp_env" "$ENV_FILE"
log "wrote $ENV_FILE in $(( $(date +%s) - START_TS ))s"
