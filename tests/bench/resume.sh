#!/bin/sh
# How long a participant whose worker dies takes to be back with media
# (make bench): runs the browser test that kills the worker of one of
# three participants (tests/browser/resume.test.mjs) RESUME_BENCH_RUNS
# times (default 5) and reports, per run, when the page had its place back
# and when video of a new stream was decoded both ways, then the median
# and the largest. It measures, and never passes or fails on a figure;
# each run still fails on the test's own functional checks.
#
#   PARLEY_NGINX=/usr/sbin/nginx \
#   PARLEY_MODULE=build/ngx_http_parley_module.so tests/bench/resume.sh
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
runs=${RESUME_BENCH_RUNS:-5}
out=$(mktemp -d "${TMPDIR:-/tmp}/parley-resume-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

i=1
while [ "$i" -le "$runs" ]; do
    if ! sh "$here/../browser/run.sh" --test-name-pattern='worker is killed' \
            "$here/../browser/resume.test.mjs" > "$out/run-$i.log" 2>&1; then
        cat "$out/run-$i.log" >&2
        echo "resume.sh: run $i failed" >&2
        exit 1
    fi
    resumed=$(sed -n 's/^# Carol resumed \([0-9]*\) ms after the kill$/\1/p' "$out/run-$i.log")
    back=$(sed -n 's/^# media back both ways \([0-9]*\) ms after the kill$/\1/p' "$out/run-$i.log")
    if [ -z "$resumed" ] || [ -z "$back" ]; then
        cat "$out/run-$i.log" >&2
        echo "resume.sh: run $i reported no figures" >&2
        exit 1
    fi
    echo "run $i: place back after $resumed ms, media both ways after $back ms"
    echo "$back" >> "$out/back"
    i=$((i + 1))
done

sort -n "$out/back" | awk '
    { v[NR] = $1 }
    END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "media back both ways: median %d ms, largest %d ms over %d runs\n", m, v[NR], NR
    }'
