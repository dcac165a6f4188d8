#!/usr/bin/env bash
# Stops the `php -S` server started by .ci/wordpress-setup.sh (MariaDB is left running).
set -u
STATE_DIR="${THERAPY_WP_STATE_DIR:-/tmp/therapy-wp}"
PID_FILE="$STATE_DIR/php-server.pid"
[ -f "$PID_FILE" ] || { echo "no WordPress test server recorded in $PID_FILE"; exit 0; }
pid="$(cat "$PID_FILE")"
case "$pid" in ''|*[!0-9]*) rm -f "$PID_FILE"; exit 0 ;; esac
if kill -0 "$pid" 2>/dev/null; then
    # The server was started with setsid: its process group (the server and its workers) has its pid.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
    echo "stopped the WordPress test server (pid $pid)"
fi
rm -f "$PID_FILE"
