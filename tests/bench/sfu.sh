#!/bin/bash
# The SFU benchmark (make bench): one publisher (VP8-like video ~1.2
# Mbit/s at 130 packets/s, Opus-like audio at 50 packets/s) to 10, 50, 200
# and 600 subscribers, driven by the test peer, against nginx + parley
# (2 workers) and then Janus (VideoRoom) on the same machine in the same
# run. It measures, and never passes or fails on a figure.
#
#   PARLEY_MODULE=build/ngx_http_parley_module.so \
#   PARLEY_PEER=build/peer/parley-peer tests/bench/sfu.sh [BENCH_SRTP_OUTPUT]
#
# Per run: the server's CPU time (utime + stime of every server process,
# /proc/PID/stat) over the measured window divided by the packets the
# subscribers received in it; loss by sequence numbers; latency from the
# publisher's send time to the kernel's arrival stamp (p50, p99); server
# PSS growth per subscriber; the generator's own CPU per packet.
#
# Everything runs in a private network namespace, so nothing can collide
# with other test runs. Janus (libnice) gathers no candidate on the
# loopback interface, so a veth there carries an address of the loopback
# range, 127.0.1.1, which libnice does gather on a non-loopback interface:
# Janus and its generator use it, and no traffic leaves 127.0.0.0/8.
#
# Then a saturation search for parley with one worker, with two, and for
# Janus: the most subscribers of the one publisher each carries with every
# subscriber set up, under 0.5 % loss and a p99 latency under 100 ms
# (doubling from SFU_BENCH_SAT_FROM until a run fails, then halving the
# gap between the last good and the first bad count until it is within
# an eighth). The generator runs on the same two cores: the figure is what
# this machine carries with its own load generator beside the server.
#
# Knobs: SFU_BENCH_COUNTS, SFU_BENCH_JANUS_COUNTS, SFU_BENCH_SECONDS,
# SFU_BENCH_SAMPLE, SFU_BENCH_BATCH_MS, SFU_BENCH_SKIP_JANUS=1,
# SFU_BENCH_SATURATE=0 (no search), SFU_BENCH_SAT_FROM (100),
# SFU_BENCH_SAT_MAX (3200).
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

if [ -z "${PARLEY_IN_NETNS:-}" ]; then
    PARLEY_IN_NETNS=1
    export PARLEY_IN_NETNS
    exec unshare -n -- bash -c '
        ip link set lo up &&
        ip link add pv0 type veth peer name pv1 &&
        ip addr add 127.0.1.1/32 dev pv0 &&
        ip link set pv0 up && ip link set pv1 up &&
        exec "$@"' bash "$here/sfu.sh" "$@"
fi

peer=${PARLEY_PEER:-$here/../../build/peer/parley-peer}
counts=${SFU_BENCH_COUNTS:-10 50 200 600}
janus_counts=${SFU_BENCH_JANUS_COUNTS:-10 50 200 600}
seconds=${SFU_BENCH_SECONDS:-10}
sample=${SFU_BENCH_SAMPLE:-10}
batch=${SFU_BENCH_BATCH_MS:-10}
srtp_out=${1:-}
port=18150
janus_port=18188
janus_room=1234
janus_address=127.0.1.1         # on pv0, see above

. "$here/../peer/nginx.sh"
. "$here/../peer/janus.sh"

out=$(mktemp -d /tmp/parley-sfu-bench.XXXXXX)
pub=""
cleanup() {
    [ -n "$pub" ] && kill "$pub" 2>/dev/null && wait "$pub" 2>/dev/null
    parley_nginx_stop
    janus_stop
    # the servers' logs stay with the summaries, their prefixes go
    if [ -n "$ngx_tmp" ]; then
        cp "$ngx_tmp/error.log" "$out/nginx-error.log" 2>/dev/null || true
        rm -rf "$ngx_tmp"
    fi
    if [ -n "$janus_tmp" ]; then
        cp "$janus_tmp/janus.log" "$out/janus.log" 2>/dev/null || true
        rm -rf "$janus_tmp"
    fi
}
trap cleanup EXIT

json_field() {
    sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1" | tail -n 1
}

# The bare loop of tests/bench/bench_srtp: GCM, 1200 B, N=100, sent to a
# socket a reader drains (as the subscribers' are)
bare=""
if [ -n "$srtp_out" ] && [ -f "$srtp_out" ]; then
    bare=$(awk '$1 == "AEAD_AES_128_GCM" && $2 == 1200 && $3 == 100 &&
                $4 == "drained" { print $6 }' "$srtp_out")
fi
echo "sfu bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
     "load $(cut -d' ' -f1-3 /proc/loadavg), bare loop ${bare:-?} ns/packet"

row='server %6s ns/pkt, loss %7s %%, p50 %7s us, p99 %8s us,'
row="$row"' %6s KB/sub, gen %5s ns/pkt'

# run_one SERVER N ROOM [extra generator options]: one measured run
run_one() {
    local server=$1 n=$2 room=$3 f
    shift 3
    f=$out/$server-$n.json
    # a bounded run: setup of every subscriber, warm-up, window
    timeout $((seconds + 240)) "$peer" --subscribe --subscribers "$n" \
        --room "$room" --duration "$seconds" --warmup 2 \
        --setup-timeout 180 --sample "$sample" --batch-ms "$batch" \
        --max-loss 100 --min-packets 0 "$@" >"$f" 2>"$out/$server-$n.err" \
        || true
    if [ ! -s "$f" ]; then
        echo "{\"ok\":false,\"error\":\"no summary: $(tail -n 1 \
            "$out/$server-$n.err")\"}" >"$f"
    fi
    printf '%-7s %4s subs: ready %4s (%s+%s), %8s pkts, '"$row"' %s\n' \
        "$server" "$n" "$(json_field "$f" ready)" \
        "$(json_field "$f" on_worker0)" "$(json_field "$f" on_worker1)" \
        "$(json_field "$f" received)" \
        "$(json_field "$f" server_cpu_ns_per_packet)" \
        "$(json_field "$f" loss_pct)" "$(json_field "$f" latency_p50_us)" \
        "$(json_field "$f" latency_p99_us)" \
        "$(json_field "$f" server_kb_per_subscriber)" \
        "$(json_field "$f" gen_cpu_ns_per_packet)" \
        "$(json_field "$f" error)"
}

# good N: whether the last run of N ($out/$label-$n.json) had every
# subscriber set up, loss under 0.5 % and p99 under 100 ms
good() {
    local f=$out/$1-$2.json
    [ "$(json_field "$f" ok)" = true ] &&
    [ "$(json_field "$f" ready)" = "$2" ] &&
    awk -v l="$(json_field "$f" loss_pct)" \
        -v p="$(json_field "$f" latency_p99_us)" \
        'BEGIN { exit !(l != "" && p != "" && l + 0 < 0.5 && p + 0 < 100000) }'
}

# saturate LABEL ROOM [generator options]: the search described above;
# prints and records (in $out/saturation) the largest good count
saturate() {
    local label=$1 room=$2 n lo=0 hi=0 mid
    shift 2
    n=${SFU_BENCH_SAT_FROM:-100}
    while [ "$n" -le "${SFU_BENCH_SAT_MAX:-3200}" ]; do
        run_one "$label" "$n" "$room" "$@"
        if good "$label" "$n"; then lo=$n; n=$((n * 2)); else hi=$n; break; fi
    done
    if [ "$hi" -gt 0 ]; then
        while [ $((hi - lo)) -gt $((lo / 8 + 1)) ]; do
            mid=$(((lo + hi) / 2))
            run_one "$label" "$mid" "$room" "$@"
            if good "$label" "$mid"; then lo=$mid; else hi=$mid; fi
        done
    fi
    if [ "$hi" -gt 0 ]; then
        echo "saturation $label: $lo subscribers (fails at $hi)"
    else
        echo "saturation $label: $lo subscribers (the search's top)"
    fi | tee -a "$out/saturation"
}

start_publisher() {
    rm -f "$out/room"
    "$peer" "$@" --create --publish --room-file "$out/room" \
        --duration 3600 --setup-timeout 3600 >"$out/pub.json" 2>"$out/pub.err" &
    pub=$!
    for _ in $(seq 100); do
        [ -s "$out/room" ] && return 0
        sleep 0.1
    done
    echo "the publisher made no room: $(cat "$out/pub.err")" >&2
    return 1
}

stop_publisher() {
    kill "$pub" 2>/dev/null || true
    wait "$pub" 2>/dev/null || true
    pub=""
}

# parley: subscribers land on whichever worker accepts them (the kernel
# spreads them, reuseport); SFU_BENCH_SPREAD=0 puts them all on the
# publisher's worker instead, as before forwarding across workers.
parley_nginx_start "$port" 42000-42127 2
workers=$(parley_nginx_workers | tr ' ' ',' | sed 's/,$//')
url="ws://127.0.0.1:$port/ws"
start_publisher --url "$url"
read -r room w <"$out/room"
sleep 2
for n in $counts; do
    if [ "${SFU_BENCH_SPREAD:-1}" = 1 ]; then
        run_one parley "$n" "$room" --url "$url" --server-pids "$workers"
    else
        run_one parley "$n" "$room" --url "$url" --server-pids "$workers" \
            --worker "$w"
    fi
done
if [ "${SFU_BENCH_SATURATE:-1}" = 1 ]; then
    saturate parley-2w "$room" --url "$url" --server-pids "$workers"
fi
stop_publisher
parley_nginx_stop
parley_nginx_check_log || echo "sfu bench: nginx logged [alert] or [emerg]"

# one worker: what two gain over it
if [ "${SFU_BENCH_SATURATE:-1}" = 1 ]; then
    parley_nginx_start "$port" 42000-42127 1
    workers=$(parley_nginx_workers | tr ' ' ',' | sed 's/,$//')
    start_publisher --url "$url"
    read -r room w <"$out/room"
    sleep 2
    saturate parley-1w "$room" --url "$url" --server-pids "$workers"
    stop_publisher
    parley_nginx_stop
    parley_nginx_check_log ||
        echo "sfu bench: nginx logged [alert] or [emerg]"
fi

if [ "${SFU_BENCH_SKIP_JANUS:-0}" != 1 ]; then
    janus_start "$janus_port" 42128-42999 "$janus_room" "$janus_address"
    echo "sfu bench: janus with event_loops = $(sed -n \
        's/.*event_loops = //p' "$janus_tmp/janus.jcfg") (tests/peer/janus.sh)"
    url="ws://127.0.0.1:$janus_port/"
    jopts="--url $url --signaling janus --janus-room $janus_room
           --local-address $janus_address"
    # shellcheck disable=SC2086
    start_publisher $jopts
    read -r feed _ <"$out/room"
    sleep 2
    for n in $janus_counts; do
        # shellcheck disable=SC2086
        run_one janus "$n" "$feed" $jopts --server-pids "$janus_pid"
    done
    if [ "${SFU_BENCH_SATURATE:-1}" = 1 ]; then
        # shellcheck disable=SC2086
        saturate janus "$feed" $jopts --server-pids "$janus_pid"
    fi
    stop_publisher
    janus_stop
fi

echo "sfu bench: summaries in $out"
