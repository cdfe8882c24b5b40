# Starts and stops an nginx with the parley module for the test peer's
# test and the benchmark; sourced by tests/peer/run.sh and
# tests/bench/sfu.sh.
#
#   parley_nginx_start PORT ICE_PORTS [WORKERS]   sets $ngx_tmp, $ngx_pid
#   parley_nginx_workers                          prints the workers' pids
#   parley_nginx_stop
#   parley_nginx_check_log                        fails on [alert]/[emerg]
#
# Needs PARLEY_NGINX (default /usr/sbin/nginx) and PARLEY_MODULE.

ngx_tmp=""
ngx_pid=""

parley_nginx_start() {
    _port=$1
    _ice_ports=$2
    _workers=${3:-2}
    _nginx=${PARLEY_NGINX:-/usr/sbin/nginx}
    _module=${PARLEY_MODULE:-}

    if [ -z "$_module" ] || [ ! -f "$_module" ]; then
        echo "set PARLEY_MODULE to the built module (.so); got '$_module'" >&2
        return 2
    fi
    _module=$(realpath "$_module")

    # with reuseport a second server on the port would silently take half
    # of the connections: refuse a port that something already listens on
    if ss -Hltn "sport = :$_port" 2>/dev/null | grep -q .; then
        echo "port $_port is in use (another test run?): set" \
             "PARLEY_PEER_PORT and PARLEY_PEER_ICE_PORTS to free ones" >&2
        return 2
    fi

    ngx_tmp=$(mktemp -d /tmp/parley-peer.XXXXXX)
    chmod 755 "$ngx_tmp"          # workers run as an unprivileged user

    _temp="client_body_temp_path $ngx_tmp/client_body;"
    _v=$("$_nginx" -V 2>&1)
    for _m in proxy fastcgi uwsgi scgi; do
        case "$_v" in
            *"--without-http_${_m}_module"*) ;;
            *) _temp="$_temp ${_m}_temp_path $ngx_tmp/$_m;" ;;
        esac
    done

    cat >"$ngx_tmp/nginx.conf" <<CONF
load_module $_module;

daemon off;
master_process on;
worker_processes $_workers;
worker_rlimit_nofile 16384;
pid $ngx_tmp/nginx.pid;
error_log $ngx_tmp/error.log info;

events {
    worker_connections 8192;
}

http {
    access_log off;
    $_temp

    parley_zone parley 32m;
    parley_max_participants 2000;
    parley_ice_address 127.0.0.1;
    parley_ice_ports $_ice_ports;

    server {
        # reuseport: the kernel spreads connections over the workers;
        # without it an idle worker takes nearly all of them
        listen 127.0.0.1:$_port reuseport;

        location /ws {
            parley_signaling;
        }

        location = /status {
            parley_status;
        }
    }
}
CONF

    "$_nginx" -p "$ngx_tmp/" -c "$ngx_tmp/nginx.conf" \
        >"$ngx_tmp/stderr.log" 2>&1 &
    ngx_pid=$!

    # ready when the port answers and the workers are up
    _i=0
    while [ $_i -lt 100 ]; do
        if ! kill -0 "$ngx_pid" 2>/dev/null; then
            echo "nginx did not start:" >&2
            cat "$ngx_tmp/stderr.log" "$ngx_tmp/error.log" >&2 2>/dev/null
            return 1
        fi
        if [ "$(parley_nginx_workers | wc -w)" -ge "$_workers" ] \
            && (exec 3<>/dev/tcp/127.0.0.1/"$_port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
        _i=$((_i + 1))
    done

    echo "nginx did not listen on $_port in 10 s" >&2
    return 1
}

parley_nginx_workers() {
    [ -n "$ngx_pid" ] && pgrep -P "$ngx_pid" 2>/dev/null | tr '\n' ' '
}

parley_nginx_stop() {
    if [ -n "$ngx_pid" ] && kill -0 "$ngx_pid" 2>/dev/null; then
        kill -QUIT "$ngx_pid" 2>/dev/null
        _i=0
        while kill -0 "$ngx_pid" 2>/dev/null && [ $_i -lt 50 ]; do
            sleep 0.1
            _i=$((_i + 1))
        done
        kill -KILL "$ngx_pid" 2>/dev/null || true
        wait "$ngx_pid" 2>/dev/null || true
    fi
    ngx_pid=""
}

parley_nginx_check_log() {
    if grep -E '\[(alert|emerg)\]' "$ngx_tmp/error.log" >&2; then
        echo "nginx logged [alert] or [emerg] (above)" >&2
        return 1
    fi
    return 0
}
