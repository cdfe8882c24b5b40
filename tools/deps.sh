#!/bin/sh
# Installs what parley needs and the machine lacks (Debian 12, as root).
# Usage: tools/deps.sh build|test|bench|upstream
#   build     what `make` and `make run` need: nginx, its headers, libraries
#   test      also what `make test` needs: cmocka, Perl test modules,
#             Chromium, and the browser driver from npm
#   bench     also what `make bench` needs: Janus, to compare with
#   upstream  also the Perl modules OpenResty's Test::Nginx needs, for
#             `make t-upstream` (the checkout itself is not installed)
set -eu

build_pkgs="gcc make nginx nginx-dev libwslay-dev libjansson-dev libssl-dev
    libsrtp2-dev libnice-dev pkg-config"
test_pkgs="libcmocka-dev clang libclang-rt-14-dev libtest-base-perl libipc-run-perl
    libprotocol-websocket-perl libjson-pp-perl chromium iproute2 nodejs
    valgrind curl libgstreamer-plugins-bad1.0-dev libsoup-3.0-dev
    gstreamer1.0-plugins-bad gstreamer1.0-plugins-good gstreamer1.0-plugins-base
    gstreamer1.0-nice iptables libnetfilter-queue-dev"
bench_pkgs="janus iproute2"
upstream_pkgs="libtest-base-perl libtext-diff-perl libtest-longstring-perl
    liblist-moreutils-perl libhttp-message-perl liburi-perl libipc-run-perl
    libprotocol-websocket-perl"

case ${1:-build} in
    build) pkgs=$build_pkgs ;;
    test)  pkgs="$build_pkgs $test_pkgs" ;;
    bench) pkgs="$build_pkgs $bench_pkgs" ;;
    upstream) pkgs="$build_pkgs $upstream_pkgs" ;;
    *)     echo "usage: $0 build|test|bench|upstream" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then
        continue
    fi
    if [ "$p" = libjson-pp-perl ] && perl -MJSON::PP -e1 2>/dev/null; then
        continue
    fi
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case $status in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "parley: missing packages:$missing (run as root to install)" >&2
        exit 1
    fi
    echo "parley: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi

if [ "${1:-build}" = test ]; then
    dir=$(dirname "$0")/../tests/browser
    if [ ! -d "$dir/node_modules/playwright-core" ] \
        || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]
    then
        (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund \
            --no-audit --loglevel=error)
        touch "$dir/node_modules"
    fi
fi
