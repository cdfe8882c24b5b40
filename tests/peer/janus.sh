# Starts and stops Janus (Debian's janus, VideoRoom plugin) for the
# benchmark's side-by-side run, on loopback only, in a temporary folder;
# sourced by tests/bench/sfu.sh.
#
#   janus_start WS_PORT RTP_PORTS ROOM [ADDRESS]
#                                        sets $janus_tmp and $janus_pid;
#                                        ADDRESS: the only one ICE uses
#                                        (127.0.0.1)
#   janus_stop
#
# ICE-lite, like parley, so that both servers see the same client.
#
# Janus at its best for many handles, not its default: "event_loops"
# (JANUS_EVENT_LOOPS, default: one per core) makes it run every handle
# on a fixed set of loops, as parley runs its peers in its workers,
# instead of a thread per handle. Measured here 25-27 us per packet at
# 50-200 subscribers instead of 41-50 us.

janus_tmp=""
janus_pid=""

janus_start() {
    _ws_port=$1
    _rtp=$2
    _room=$3
    _address=${4:-127.0.0.1}
    _lib=/usr/lib/x86_64-linux-gnu/janus

    if ! command -v janus >/dev/null 2>&1; then
        echo "janus is not installed (tools/deps.sh bench)" >&2
        return 2
    fi

    janus_tmp=$(mktemp -d /tmp/parley-janus.XXXXXX)

    # only the VideoRoom plugin and the WebSocket transport are loaded
    _plugins=""
    for _f in "$_lib"/plugins/libjanus_*.so; do
        case $_f in *videoroom*) continue ;; esac
        _plugins="$_plugins${_plugins:+,}$(basename "$_f")"
    done
    _transports=""
    for _f in "$_lib"/transports/libjanus_*.so; do
        case $_f in *websockets*) continue ;; esac
        _transports="$_transports${_transports:+,}$(basename "$_f")"
    done

    cat >"$janus_tmp/janus.jcfg" <<CONF
general: {
    configs_folder = "$janus_tmp"
    plugins_folder = "$_lib/plugins"
    transports_folder = "$_lib/transports"
    events_folder = "$_lib/events"
    loggers_folder = "$_lib/loggers"
    debug_level = 3
    session_timeout = 120
    event_loops = ${JANUS_EVENT_LOOPS:-$(nproc)}
}
certificates: {
}
media: {
    rtp_port_range = "$_rtp"
}
nat: {
    ice_lite = true
    ice_enforce_list = "$_address"
}
plugins: {
    disable = "$_plugins"
}
transports: {
    disable = "$_transports"
}
events: {
    broadcast = false
}
CONF

    cat >"$janus_tmp/janus.transport.websockets.jcfg" <<CONF
general: {
    json = "plain"
    ws = true
    ws_port = $_ws_port
    ws_ip = "127.0.0.1"
    wss = false
}
admin: {
    admin_ws = false
    admin_wss = false
}
CONF

    cat >"$janus_tmp/janus.plugin.videoroom.jcfg" <<CONF
general: {
}
room-$_room: {
    description = "parley benchmark"
    publishers = 4
    bitrate = 2000000
    fir_freq = 0
    audiocodec = "opus"
    videocodec = "vp8"
    notify_joining = false
}
CONF

    janus -C "$janus_tmp/janus.jcfg" -F "$janus_tmp" -N \
        -L "$janus_tmp/janus.log" -o >/dev/null 2>&1 &
    janus_pid=$!

    _i=0
    while [ $_i -lt 100 ]; do
        if ! kill -0 "$janus_pid" 2>/dev/null; then
            echo "janus did not start:" >&2
            tail -n 30 "$janus_tmp/janus.log" >&2
            return 1
        fi
        if (exec 3<>/dev/tcp/127.0.0.1/"$_ws_port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
        _i=$((_i + 1))
    done

    echo "janus did not listen on $_ws_port in 10 s" >&2
    return 1
}

janus_stop() {
    if [ -n "$janus_pid" ] && kill -0 "$janus_pid" 2>/dev/null; then
        kill -INT "$janus_pid" 2>/dev/null
        _i=0
        while kill -0 "$janus_pid" 2>/dev/null && [ $_i -lt 50 ]; do
            sleep 0.1
            _i=$((_i + 1))
        done
        kill -KILL "$janus_pid" 2>/dev/null || true
        wait "$janus_pid" 2>/dev/null || true
    fi
    janus_pid=""
}
