#!/bin/bash
# Media through nginx + parley without a browser: the test peer publishes
# and subscribes, and checks continuity, integrity (SRTP authentication of
# every packet, the payload checksum), loss and the track set.
#
#   PARLEY_MODULE=build/ngx_http_parley_module.so \
#   PARLEY_PEER=build/peer/parley-peer \
#   PARLEY_WEBRTCBIN=build/peer/parley-webrtcbin tests/peer/run.sh [CASE...]
#
# With CASE names (same-worker, flood-packets, ...: the first word of each
# result line) only those cases run.
# The cases across workers, the renegotiation one (re-offers when tracks
# come and go), the retransmission ones (NACK and RTX, downstream and
# upstream) and the packet flood one run unless PARLEY_PEER_CROSS_WORKER=0.
# Ports: HTTP ${PARLEY_PEER_PORT:-18090}, media UDP
# ${PARLEY_PEER_ICE_PORTS:-42000-42127}. As root, everything runs in a
# private network namespace with only its own loopback (as the browser
# tests do), so that two runs at once, of two checkouts say, never share a
# port; elsewhere, two runs on the same ports would split each other's
# connections (the sockets are reuseport).
# Counters of /status are read as differences around a case: the cases
# run one after another.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

if [ -z "${PARLEY_IN_NETNS:-}" ] && [ "$(id -u)" -eq 0 ] \
    && command -v unshare >/dev/null 2>&1
then
    PARLEY_IN_NETNS=1
    export PARLEY_IN_NETNS
    exec unshare -n -- sh -c 'ip link set lo up && exec "$@"' sh \
        bash "$here/run.sh" "$@"
fi
peer=${PARLEY_PEER:-$here/../../build/peer/parley-peer}
webrtcbin=${PARLEY_WEBRTCBIN:-$here/../../build/peer/parley-webrtcbin}
port=${PARLEY_PEER_PORT:-18090}
ice_ports=${PARLEY_PEER_ICE_PORTS:-42000-42127}
cross=${PARLEY_PEER_CROSS_WORKER:-1}
url="ws://127.0.0.1:$port/ws"

. "$here/nginx.sh"

if ! command -v curl >/dev/null 2>&1; then
    echo "run.sh: curl is needed to read /status (make deps-test)" >&2
    exit 2
fi

if [ ! -x "$peer" ]; then
    echo "run.sh: no test peer at '$peer' (make peer, or set PARLEY_PEER)" >&2
    exit 2
fi


pids=""
failed=0
cleanup() {
    for p in $pids; do
        kill "$p" 2>/dev/null || true
    done
    parley_nginx_stop
    if [ "$failed" -eq 0 ] && [ -n "$ngx_tmp" ]; then
        rm -rf "$ngx_tmp"
    elif [ -n "$ngx_tmp" ]; then
        echo "run.sh: logs kept in $ngx_tmp" >&2
    fi
}
trap cleanup EXIT

fail() {
    echo "not ok - $*" >&2
    failed=1
}

# waits for a --room-file; prints "ROOM WORKER"
wait_room() {
    for _ in $(seq 100); do
        if [ -s "$1" ]; then
            cat "$1"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# wait_line FILE WORD: waits (at most 30 s) until a --ready-file says WORD
wait_line() {
    for _ in $(seq 300); do
        if grep -qx "$2" "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# json_field FILE NAME: a number or string member of the summary line
json_field() {
    sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1" | tail -n 1
}

# status_total NAME: parley_NAME_total of /status, summed over the
# workers; a /status that does not answer, or lacks the counter, ends
# the run rather than reading as 0
status_total() {
    local text
    text=$(curl -sf --max-time 5 "http://127.0.0.1:$port/status") || {
        echo "run.sh: /status did not answer" >&2
        exit 1
    }
    awk -v n="parley_$1_total" \
        'index($1, n "{") == 1 || $1 == n { s += $NF; seen = 1 }
         END { if (!seen) exit 1; printf "%d\n", s }' <<<"$text" || {
        echo "run.sh: /status has no parley_$1_total" >&2
        exit 1
    }
}

# A publisher of a new room in the background ($pub), with the room and
# its worker in the caller's $room and $w; fails the case if it made none.
start_publisher() {
    local name=$1 dir=$2
    shift 2
    "$peer" --url "$url" --create --publish --room-file "$dir/room" "$@" \
        >"$dir/pub.json" 2>"$dir/pub.err" &
    pub=$!
    pids="$pids $pub"

    if ! read -r room w < <(wait_room "$dir/room"); then
        fail "$name: the publisher made no room"; cat "$dir/pub.err" >&2
        return 1
    fi
}

# A creates and publishes; B joins on worker $1 and subscribes, 4 s.
# The publisher's 9 s outlast a consent interval: the server checks its
# path again (RFC 7675 5.1) and the peer answers.
case_publish_subscribe() {
    local name=$1 worker_of_sub=$2 dir=$ngx_tmp/$1 room w pub renewed
    mkdir -p "$dir"
    renewed=$(status_total consent_renewed)

    start_publisher "$name" "$dir" --duration 9 || return
    [ "$worker_of_sub" = same ] && worker_of_sub=$w
    [ "$worker_of_sub" = other ] && worker_of_sub=$((1 - w))

    if "$peer" --url "$url" --room "$room" --worker "$worker_of_sub" \
        --subscribe --duration 4 --min-packets 500 --max-loss 1 \
        >"$dir/sub.json" 2>"$dir/sub.err"
    then
        echo "ok - $name: subscriber on worker $worker_of_sub of publisher" \
             "on $w: $(json_field "$dir/sub.json" received) packets," \
             "loss $(json_field "$dir/sub.json" loss_pct) %," \
             "p50 $(json_field "$dir/sub.json" latency_p50_us) us"
    else
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi

    if wait "$pub"; then
        if [ "$(json_field "$dir/pub.json" plis)" -gt 0 ]; then
            echo "ok - $name: the publisher was asked for a keyframe"
        else
            fail "$name: the server never sent the publisher a PLI"
        fi
    else
        fail "$name: publisher: $(cat "$dir/pub.err")"
    fi

    renewed=$(( $(status_total consent_renewed) - renewed ))
    if [ "$renewed" -gt 0 ]; then
        echo "ok - $name: /status: $renewed consent renewals (the server's" \
             "periodic checks, answered)"
    else
        fail "$name: /status counts no parley_consent_renewed_total"
    fi
}

# B subscribes in an empty room first; A joins and publishes later: the
# offer comes when there is a track (docs/protocol.md, subscribe).
case_subscribe_first() {
    local name=$1 where=$2 dir=$ngx_tmp/$1 room w sub pubw
    mkdir -p "$dir"

    "$peer" --url "$url" --create --subscribe --room-file "$dir/room" \
        --ready-file "$dir/ready" \
        --duration 4 --min-packets 500 --max-loss 1 --setup-timeout 30 \
        >"$dir/sub.json" 2>"$dir/sub.err" &
    sub=$!
    pids="$pids $sub"

    if ! read -r room w < <(wait_room "$dir/room"); then
        fail "$name: the subscriber made no room"; cat "$dir/sub.err" >&2
        return
    fi

    # the server has taken the subscribe before anyone publishes
    if ! wait_line "$dir/ready" subscribed; then
        fail "$name: the subscriber's subscribe was not taken"
        return
    fi
    pubw=$w
    [ "$where" = other ] && pubw=$((1 - w))

    "$peer" --url "$url" --room "$room" --worker "$pubw" --publish \
        --duration 20 >"$dir/pub.json" 2>"$dir/pub.err" || \
        fail "$name: publisher: $(cat "$dir/pub.err")"

    if wait "$sub"; then
        echo "ok - $name: an early subscriber got its offer on publish:" \
             "$(json_field "$dir/sub.json" received) packets," \
             "$(json_field "$dir/sub.json" offers) offer(s)"
    else
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi
}

# A publishes on one worker, B subscribes on the other; C joins, publishes
# for 3 s and leaves: B must answer the unsolicited re-offers (C's tracks
# added, then made inactive) and receive C's tracks too.
case_renegotiation() {
    local name=$1 dir=$ngx_tmp/$1 room w pub sub offers
    mkdir -p "$dir"

    start_publisher "$name" "$dir" --duration 14 || return

    "$peer" --url "$url" --room "$room" --worker $((1 - w)) --subscribe \
        --ready-file "$dir/ready" \
        --duration 7 --min-packets 900 --max-loss 1 \
        >"$dir/sub.json" 2>"$dir/sub.err" &
    sub=$!
    pids="$pids $sub"

    # B answered its first offer and receives: C's tracks come as re-offers
    if ! wait_line "$dir/ready" ready; then
        fail "$name: the subscriber was not set up: $(cat "$dir/sub.err")"
        return
    fi

    "$peer" --url "$url" --room "$room" --publish --duration 3 \
        >"$dir/pub2.json" 2>"$dir/pub2.err" || \
        fail "$name: second publisher: $(cat "$dir/pub2.err")"

    if wait "$sub"; then
        offers=$(json_field "$dir/sub.json" offers)
        if [ "$offers" -ge 3 ]; then
            echo "ok - $name: $offers offers answered, every track arrived:" \
                 "$(json_field "$dir/sub.json" received) packets"
        else
            fail "$name: $offers subscribe-offers, 3 expected (added, ended)"
        fi
    else
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi

    wait "$pub" || fail "$name: publisher: $(cat "$dir/pub.err")"
}

# The checks must be able to fail: the same run with a bit flipped in
# every 50th packet before it is checked must be refused.
case_checks_bite() {
    local name=$1 dir=$ngx_tmp/$1 room w pub
    mkdir -p "$dir"

    start_publisher "$name" "$dir" --duration 5 || return

    if "$peer" --url "$url" --room "$room" --worker "$w" --subscribe \
        --duration 2 --corrupt-every 50 >"$dir/sub.json" 2>"$dir/sub.err"
    then
        fail "$name: corrupted packets went unnoticed"
    elif grep -q "SRTP authentication" "$dir/sub.err" \
        && [ "$(json_field "$dir/sub.json" auth_failed)" -gt 0 ]; then
        echo "ok - $name: $(json_field "$dir/sub.json" auth_failed)" \
             "flipped packets failed SRTP authentication"
    else
        fail "$name: the run failed for another reason: $(cat "$dir/sub.err")"
    fi

    wait "$pub" || fail "$name: publisher: $(cat "$dir/pub.err")"
}

# The subscriber on the other worker drops 1 in 50 video packets and
# NACKs them: the server must answer from its ring as RTX (FID SSRC, OSN),
# and the unwrapped packets must pass the same checks as first arrivals.
case_nack_subscriber() {
    local name=$1 dir=$ngx_tmp/$1 room w pub answered now
    mkdir -p "$dir"
    answered=$(status_total nacks_answered)

    start_publisher "$name" "$dir" --duration 8 || return

    if "$peer" --url "$url" --room "$room" --worker $((1 - w)) --subscribe \
        --duration 4 --min-packets 500 --max-loss 1 --drop-every 50 \
        --min-recovered 95 >"$dir/sub.json" 2>"$dir/sub.err"
    then
        echo "ok - $name: $(json_field "$dir/sub.json" recovered) of" \
             "$(json_field "$dir/sub.json" dropped) dropped packets came" \
             "back as RTX ($(json_field "$dir/sub.json" recovered_pct) %," \
             "$(json_field "$dir/sub.json" recovery_pending) pending)"
    else
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi

    now=$(status_total nacks_answered)
    answered=$((now - answered))
    if [ "$answered" -gt 0 ]; then
        echo "ok - $name: /status: $answered NACK'd numbers answered"
    else
        fail "$name: /status counts no parley_nacks_answered_total"
    fi

    wait "$pub" || fail "$name: publisher: $(cat "$dir/pub.err")"
}

# The publisher leaves 1 in 50 video packets unsent until NACK'd: the
# server must ask (upstream NACK), take the RTX, and the subscriber on the
# other worker must see almost no loss (2 % without the repair).
case_nack_publisher() {
    local name=$1 dir=$ngx_tmp/$1 room w pub sent now
    mkdir -p "$dir"
    sent=$(status_total nacks_sent)

    start_publisher "$name" "$dir" --duration 8 --skip-every 50 || return

    if "$peer" --url "$url" --room "$room" --worker $((1 - w)) --subscribe \
        --duration 4 --min-packets 500 --max-loss 0.5 \
        >"$dir/sub.json" 2>"$dir/sub.err"
    then
        echo "ok - $name: loss $(json_field "$dir/sub.json" loss_pct) % with" \
             "1 in 50 video packets held back by the publisher"
    else
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi

    if ! wait "$pub"; then
        fail "$name: publisher: $(cat "$dir/pub.err")"
        return
    fi

    now=$(status_total nacks_sent)
    sent=$((now - sent))

    if [ "$sent" -gt 0 ] \
        && [ "$(json_field "$dir/pub.json" nacks_received)" -gt 0 ] \
        && [ "$(json_field "$dir/pub.json" rtx_sent)" -gt 0 ]; then
        echo "ok - $name: /status: $sent NACKs sent; the publisher got" \
             "$(json_field "$dir/pub.json" nacks_received), sent" \
             "$(json_field "$dir/pub.json" rtx_sent) RTX for" \
             "$(json_field "$dir/pub.json" skipped) skipped"
    else
        fail "$name: upstream NACKs: $sent in /status, publisher got" \
             "$(json_field "$dir/pub.json" nacks_received), sent" \
             "$(json_field "$dir/pub.json" rtx_sent) RTX"
    fi
}

# Two publishers of one room send under the same SSRCs, as a member that
# copied another's from its subscribe-offer would: the subscriber on the
# other worker must get four tracks, each whole and under SSRCs of its own
# (with the publishers' SSRCs on the legs, two streams shared one SRTP
# stream: the second track fell silent and sequences mixed).
case_same_ssrc() {
    local name=$1 dir=$ngx_tmp/$1 room w pub pub2
    mkdir -p "$dir"

    start_publisher "$name" "$dir" --duration 12 --ssrc 4242 || return

    "$peer" --url "$url" --room "$room" --worker "$w" --publish \
        --duration 10 --ssrc 4242 >"$dir/pub2.json" 2>"$dir/pub2.err" &
    pub2=$!
    pids="$pids $pub2"

    if "$peer" --url "$url" --room "$room" --worker $((1 - w)) --subscribe \
        --duration 4 --warmup 2 --min-packets 900 --max-loss 1 \
        >"$dir/sub.json" 2>"$dir/sub.err"
    then
        echo "ok - $name: two publishers under one SSRC, each track whole:" \
             "$(json_field "$dir/sub.json" received) packets, loss" \
             "$(json_field "$dir/sub.json" loss_pct) %"
    else
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi

    wait "$pub2" || fail "$name: second publisher: $(cat "$dir/pub2.err")"
    wait "$pub" || fail "$name: publisher: $(cat "$dir/pub.err")"
}

# After DTLS the subscriber nominates a second socket of its own (on the
# same host, another port) with a check of the highest priority, as a
# client would a forged source address. The server may answer that check,
# but sends media there only once the socket answers the server's own
# check (RFC 7675): "silent" must get STUN only and keep its media on the
# first socket; "answer" must get the media moved there.
case_second_path() {
    local name=$1 mode=$2 dir=$ngx_tmp/$1 room w pub srtp
    mkdir -p "$dir"

    start_publisher "$name" "$dir" --duration 8 || return

    if "$peer" --url "$url" --room "$room" --worker "$w" --subscribe \
        --duration 4 --min-packets 500 --max-loss 1 --second-path "$mode" \
        >"$dir/sub.json" 2>"$dir/sub.err"
    then
        srtp=$(json_field "$dir/sub.json" second_srtp)
        echo "ok - $name: the second socket got" \
             "$(json_field "$dir/sub.json" second_stun) STUN" \
             "($(json_field "$dir/sub.json" second_checks) checks from the" \
             "server, $(json_field "$dir/sub.json" second_answered)" \
             "answered) and $srtp SRTP/SRTCP;" \
             "$(json_field "$dir/sub.json" received) packets in all"
    else
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi

    wait "$pub" || fail "$name: publisher: $(cat "$dir/pub.err")"
}

# The subscriber's congestion feedback goes silent after one report, as
# if its link dropped everything: the server must take the silence for
# loss and pause the video section (the "paused" message), and once the
# subscriber reports again, let the video through again, from a keyframe.
# Fails on a server that reads no feedback: nothing is ever paused.
# The pause leaves no gap in the leg's numbers (--max-loss), on the
# publisher's worker and on the other.
case_bandwidth() {
    local name=$1 where=$2 dir=$ngx_tmp/$1 room w pub paused sub_w
    mkdir -p "$dir"
    paused=$(status_total sections_paused)

    start_publisher "$name" "$dir" --duration 16 || return
    sub_w=$w
    [ "$where" = other ] && sub_w=$((1 - w))

    if "$peer" --url "$url" --room "$room" --worker "$sub_w" --subscribe \
        --duration 12 --bandwidth-check --max-loss 1 \
        >"$dir/sub.json" 2>"$dir/sub.err"
    then
        echo "ok - $name: the video was paused while the feedback was" \
             "silent and came back once reported:" \
             "$(grep -o 'bandwidth check: .*' "$dir/sub.err")"
    else
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi

    if [ "$(status_total sections_paused)" -le "$paused" ]; then
        fail "$name: parley_sections_paused_total did not grow"
    fi

    wait "$pub" || fail "$name: publisher: $(cat "$dir/pub.err")"
}

# A publisher floods one track with 6,000 video packets a second of 200
# bytes, twice the 3,000 a track may send (README, parley_rtp_flooded_
# total). The server drops the excess before the ring and counts it, and
# a subscriber on the other worker gets no more than the limit lets
# through in its window W: 3,000 a second of video and the audio's 50,
# plus the quarter second's burst (750) and what was on its way when W
# began (a ring, 256, and as many again).
case_flood_packets() {
    local name=$1 dir=$ngx_tmp/$1 room w pub before now flooded secs got most
    mkdir -p "$dir"
    before=$(status_total rtp_flooded)

    start_publisher "$name" "$dir" --duration 5 --video-pps 6000 \
        --video-size 200 --video-fps 100 || return

    if ! "$peer" --url "$url" --room "$room" --worker $((1 - w)) \
        --subscribe --duration 3 --max-loss 100 --sample 10 \
        >"$dir/sub.json" 2>"$dir/sub.err"
    then
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi

    wait "$pub" || fail "$name: publisher: $(cat "$dir/pub.err")"
    now=$(status_total rtp_flooded)
    flooded=$((now - before))
    secs=$(json_field "$dir/sub.json" seconds)
    got=$(json_field "$dir/sub.json" received)
    most=$(awk -v s="${secs:-0}" 'BEGIN { printf "%d", 3050 * s + 750 + 512 }')

    if [ "$flooded" -gt 0 ] && [ -n "$got" ] && [ "$got" -le "$most" ]; then
        echo "ok - $name: $flooded packets dropped as a flood; the" \
             "subscriber got $got in $secs s (at most $most)," \
             "of $(json_field "$dir/pub.json" sent) sent"
    else
        fail "$name: $flooded flooded in /status; the subscriber got" \
             "${got:-nothing} packets in ${secs:-?} s, at most $most allowed"
    fi
}

# 2,800 video packets a second, under the packet limit, of 1,400 bytes:
# 4 MB a second, over the 3 MB a track may send. Packets are dropped as a
# flood, not all of them.
case_flood_bytes() {
    local name=$1 dir=$ngx_tmp/$1 room w pub before now in_before flooded in
    mkdir -p "$dir"
    before=$(status_total rtp_flooded)
    in_before=$(status_total rtp_in)

    start_publisher "$name" "$dir" --duration 3 --video-pps 2800 \
        --video-size 1400 --video-fps 100 || return
    wait "$pub" || fail "$name: publisher: $(cat "$dir/pub.err")"

    now=$(status_total rtp_flooded)
    flooded=$((now - before))
    now=$(status_total rtp_in)
    in=$((now - in_before))

    if [ "$flooded" -gt 0 ] && [ "$flooded" -lt "$in" ]; then
        echo "ok - $name: $flooded of $in packets dropped as a flood"
    else
        fail "$name: $flooded of $in packets dropped as a flood"
    fi
}

# Three subscribers of one publisher ask for keyframes of its video in a
# burst each second of a 4 s window: 8 PLIs each within 140 ms. The
# owner of the track sends at most one PLI per 300 ms and folds the asks
# that came sooner into one sent when the gap has passed
# (docs/protocol.md): two PLIs a burst reach the publisher, not one
# (asks lost instead of folded) and not one per ask (no limit). One more
# or one fewer is let pass for a burst cut by the window's edge.
case_pli_folding() {
    local name=$1 dir=$ngx_tmp/$1 bursts plis asked
    mkdir -p "$dir"

    if ! "$peer" --url "$url" --create --publish --subscribe \
        --subscribers 3 --duration 4 --pli-burst 8 \
        >"$dir/run.json" 2>"$dir/run.err"
    then
        fail "$name: $(cat "$dir/run.err")"
        return
    fi

    bursts=$(json_field "$dir/run.json" pli_bursts)
    plis=$(json_field "$dir/run.json" plis_window)
    asked=$(json_field "$dir/run.json" plis_asked)

    if [ "$bursts" -ge 3 ] && [ "$plis" -ge $((2 * bursts - 1)) ] \
        && [ "$plis" -le $((2 * bursts + 1)) ]
    then
        echo "ok - $name: $asked PLIs asked in $bursts bursts, $plis" \
             "reached the publisher"
    else
        fail "$name: $asked PLIs asked in $bursts bursts, $plis reached" \
             "the publisher: $((2 * bursts)) expected (one and one folded" \
             "a burst)"
    fi
}

# GStreamer's webrtcbin publishes VP8 and Opus; another webrtcbin
# subscribes and decodes both. webrtcbin's offer has an msid that is not
# an RFC 8830 token (it holds an '@'), which parley skips.
case_webrtcbin() {
    local name=$1 dir=$ngx_tmp/$1 room w pub refused
    mkdir -p "$dir"

    if [ ! -x "$webrtcbin" ]; then
        fail "$name: no webrtcbin client at '$webrtcbin' (make peer-test," \
             "or set PARLEY_WEBRTCBIN)"
        return
    fi
    refused=$(status_total client_errors)

    "$webrtcbin" --url "$url" --publish --room-file "$dir/room" \
        --duration 60 >"$dir/pub.json" 2>"$dir/pub.err" &
    pub=$!
    pids="$pids $pub"

    if ! read -r room w < <(wait_room "$dir/room"); then
        fail "$name: the publisher made no room"; cat "$dir/pub.err" >&2
        return
    fi

    # deadlines for a loaded machine: the subscriber stops once it has
    # decoded 20 frames and some audio, then the publisher is stopped
    if "$webrtcbin" --url "$url" --room "$room" --subscribe --duration 40 \
        --min-frames 20 >"$dir/sub.json" 2>"$dir/sub.err"
    then
        echo "ok - $name: webrtcbin decoded" \
             "$(json_field "$dir/sub.json" video_frames) video frames and" \
             "$(json_field "$dir/sub.json" audio_buffers) audio buffers" \
             "that webrtcbin published"
    else
        fail "$name: subscriber: $(cat "$dir/sub.err")"
    fi

    kill -TERM "$pub" 2>/dev/null || true       # it may have ended
    wait "$pub" || fail "$name: publisher: $(cat "$dir/pub.err")"

    refused=$(( $(status_total client_errors) - refused ))
    if [ "$refused" -ne 0 ]; then
        fail "$name: /status: $refused messages refused with an error"
    fi
}

# run_case NAME FUNCTION [ARGS]: unless the command line names others
run_case() {
    local name=$1 c
    shift

    if [ "${#only[@]}" -gt 0 ]; then
        for c in "${only[@]}"; do
            [ "$c" = "$name" ] && break
        done
        [ "$c" = "$name" ] || return 0
    fi

    ran="$ran $name "
    "$@"
}

# cross_case NAME FUNCTION [ARGS]: a case that needs both workers
cross_case() {
    if [ "$cross" = 1 ]; then
        run_case "$@"
    else
        run_case "$1" echo "ok - $1 # SKIP PARLEY_PEER_CROSS_WORKER=0"
    fi
}

only=("$@")
ran=""

parley_nginx_start "$port" "$ice_ports" 2

run_case same-worker case_publish_subscribe same-worker same
run_case subscribe-first case_subscribe_first subscribe-first same
run_case checks-bite case_checks_bite checks-bite
run_case second-path-silent case_second_path second-path-silent silent
run_case second-path-answer case_second_path second-path-answer answer
run_case flood-bytes case_flood_bytes flood-bytes
run_case pli-folding case_pli_folding pli-folding
run_case bandwidth case_bandwidth bandwidth same
run_case webrtcbin case_webrtcbin webrtcbin

cross_case cross-worker case_publish_subscribe cross-worker other
cross_case subscribe-first-cross case_subscribe_first \
    subscribe-first-cross other
cross_case renegotiation case_renegotiation renegotiation
cross_case nack-subscriber case_nack_subscriber nack-subscriber
cross_case nack-publisher case_nack_publisher nack-publisher
cross_case flood-packets case_flood_packets flood-packets
cross_case same-ssrc case_same_ssrc same-ssrc
cross_case bandwidth-cross case_bandwidth bandwidth-cross other

for c in "${only[@]}"; do
    case $ran in
        *" $c "*) ;;
        *) fail "no case is named $c" ;;
    esac
done

parley_nginx_stop
parley_nginx_check_log || fail "nginx error log"

exit $failed
