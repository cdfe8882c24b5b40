#!/bin/sh
# Run parley's browser tests against a real nginx with the parley module.
#
# Everything runs inside a private network namespace that has only its own
# loopback: nginx, Chromium and every ICE candidate are on 127.0.0.1 there,
# nothing outside can reach the server and the tests reach nothing outside.
# nginx is therefore started here, inside the namespace.
#
# Environment:
#   PARLEY_MODULE     the built parley module (.so)                (required)
#   PARLEY_NGINX      nginx binary                       (/usr/sbin/nginx)
#   PARLEY_PORT       port on 127.0.0.1                             (8080)
#   PARLEY_ARTIFACTS  where failure screenshots go (/tmp/parley-browser-artifacts)
#   PARLEY_KEEP=1     keep the temporary nginx prefix for inspection
# The tests get PARLEY_BASE_URL, PARLEY_ICE_PORTS (the server's media
# ports) and PARLEY_ERROR_LOG (nginx's error log, to count its lines).
#   PARLEY_DELAY      the delayer of impaired links, tests/netem/delay.c
#                     built (impaired.test.mjs; make browser sets it)
# Arguments, if any, are passed to `node --test` instead of the test files.
#
# Runs as root (unshare -n needs it). Exits with the tests' status, or 1 when
# they passed but nginx logged [alert], [emerg] or [crit] (but the master's
# alert about the worker resume.test.mjs kills).
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

if [ -z "${PARLEY_IN_NETNS:-}" ]; then
    # Outside the namespace: fetch what is missing (this needs the network).
    missing=""
    command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
    [ -x "${PARLEY_CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing chromium"
    if [ -n "$missing" ]; then
        echo "run.sh: installing$missing" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
    if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
        echo "run.sh: npm ci in $here" >&2
        (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    fi
    PARLEY_IN_NETNS=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    export PARLEY_IN_NETNS PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD
    exec unshare -n -- sh -c 'ip link set lo up && exec "$@"' sh "$here/run.sh" "$@"
fi

# Inside the namespace from here on.
nginx=${PARLEY_NGINX:-/usr/sbin/nginx}
module=${PARLEY_MODULE:-}
port=${PARLEY_PORT:-8080}
# the server's media ports, which impaired.test.mjs impairs
ice_ports=41000-41127
artifacts=${PARLEY_ARTIFACTS:-/tmp/parley-browser-artifacts}

if [ -z "$module" ] || [ ! -f "$module" ]; then
    echo "run.sh: set PARLEY_MODULE to the built parley module (.so); got '${module}'" >&2
    exit 2
fi
if [ ! -x "$nginx" ]; then
    echo "run.sh: no nginx binary at '$nginx' (set PARLEY_NGINX)" >&2
    exit 2
fi
module=$(realpath "$module")

tmp=$(mktemp -d /tmp/parley-browser.XXXXXX)
chmod 755 "$tmp"            # nginx workers run as an unprivileged user
mkdir -p "$tmp/tmp" "$artifacts"
log="$tmp/error.log"
nginx_pid=""

# Temporary-file paths for the modules this nginx has, all under $tmp
# (the compiled-in defaults may point at directories that do not exist).
nginx_v=$("$nginx" -V 2>&1)
temp_paths="client_body_temp_path $tmp/client_body;"
for m in proxy fastcgi uwsgi scgi; do
    case "$nginx_v" in
        *"--without-http_${m}_module"*) ;;
        *) temp_paths="$temp_paths
    ${m}_temp_path $tmp/$m;" ;;
    esac
done

cat >"$tmp/nginx.conf" <<EOF
load_module $module;

daemon off;
master_process on;
worker_processes 2;
pid $tmp/nginx.pid;
error_log $log info;

events {
    worker_connections 1024;
}

http {
    access_log $tmp/access.log;
    $temp_paths

    parley_zone parley 32m;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $ice_ports;

    # sections.test.mjs: more tracks in one room than a subscriber takes
    parley_max_participant_tracks 8;
    parley_max_room_tracks 96;

    server {
        # as in conf/nginx.conf: the kernel spreads connections over the
        # workers by their addresses, so a new connection may land on either
        listen 127.0.0.1:$port reuseport;

        location / {
            parley_app;
        }

        location /ws {
            parley_signaling;
        }

        location = /status {
            parley_status;
        }
    }
}
EOF

show_log() {
    echo "----- $log -----" >&2
    tail -n 300 "$log" >&2 2>/dev/null || true
    echo "----- end of log -----" >&2
}

alive() { [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; }

stop_nginx() {
    alive || return 0
    kill -QUIT "$nginx_pid" 2>/dev/null || true     # graceful shutdown
    i=0
    while alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if alive; then
        echo "run.sh: nginx did not stop within 10 s of SIGQUIT; sending SIGTERM" >&2
        kill -TERM "$nginx_pid" 2>/dev/null || true
        i=0
        while alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        alive && kill -KILL "$nginx_pid" 2>/dev/null || true
    fi
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=""
}

cleanup() {
    stop_nginx
    if [ -n "${PARLEY_KEEP:-}" ]; then
        echo "run.sh: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$nginx" -p "$tmp/" -c "$tmp/nginx.conf" -e "$log" &
nginx_pid=$!

# Wait until the port answers.
i=0
until node -e '
    const s = require("net").connect(+process.argv[1], "127.0.0.1");
    s.on("connect", () => process.exit(0)).on("error", () => process.exit(1));
' "$port" 2>/dev/null; do
    if ! alive; then
        echo "run.sh: nginx exited before listening on 127.0.0.1:$port" >&2
        show_log
        exit 1
    fi
    i=$((i + 1))
    if [ $i -ge 100 ]; then
        echo "run.sh: nothing listens on 127.0.0.1:$port after 10 s" >&2
        show_log
        exit 1
    fi
    sleep 0.1
done

if [ $# -eq 0 ]; then
    set -- "$here"/*.test.mjs
fi

# One file at a time: the files share this nginx, and their assertions
# on its counters are differences taken around their own actions, which
# a file running beside them would add to.
set +e
PARLEY_BASE_URL="http://127.0.0.1:$port" PARLEY_ARTIFACTS="$artifacts" TMPDIR="$tmp/tmp" \
    PARLEY_NGINX_PID_FILE="$tmp/nginx.pid" PARLEY_ICE_PORTS="$ice_ports" \
    PARLEY_ERROR_LOG="$log" node --test --test-concurrency=1 "$@"
status=$?
set -e

stop_nginx

# resume.test.mjs kills a worker on purpose: the master's alert about it
# is the one expected
bad=$(grep -E '\[(alert|emerg|crit)\]' "$log" 2>/dev/null \
      | grep -v 'exited on signal 9$' || true)

if [ -n "$bad" ]; then
    echo "run.sh: nginx logged [alert], [emerg] or [crit]:" >&2
    echo "$bad" >&2
    show_log
    [ "$status" -ne 0 ] || status=1
elif [ "$status" -ne 0 ]; then
    show_log
fi

exit "$status"
