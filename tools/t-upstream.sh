#!/bin/sh
# Runs t/ under OpenResty's Test::Nginx::Socket (openresty/test-nginx)
# instead of parley's own block runner, t/lib/Test/Nginx/Socket.pm: the .t
# files are written to pass under both.
#
#   TEST_NGINX_UPSTREAM=/path/to/test-nginx tools/t-upstream.sh [prove args]
#
# TEST_NGINX_UPSTREAM is a checkout of test-nginx kept outside this
# repository (never copy it in).  Its Perl dependencies come from Debian
# packages: tools/deps.sh upstream.  Without arguments, every file of t/.
#
# Upstream's lib comes first, so that "use Test::Nginx::Socket" loads its
# runner; t/lib then provides parley's helpers (Test::Parley::*).  The port,
# media ports and servroot are claimed once for the whole run (see
# t/lib/Test/Parley/Ports.pm), so files run one after the other.
set -eu

up=${TEST_NGINX_UPSTREAM:-}
if [ -z "$up" ] || [ ! -f "$up/lib/Test/Nginx/Socket.pm" ]; then
    echo "t-upstream: set TEST_NGINX_UPSTREAM to a checkout of" \
        "openresty/test-nginx (with lib/Test/Nginx/Socket.pm)" >&2
    exit 2
fi
up=$(cd "$up" && pwd)
export TEST_NGINX_UPSTREAM="$up"    # t/000-harness.t runs a file under it too
cd "$(dirname "$0")/.."

export TEST_NGINX_BINARY="${TEST_NGINX_BINARY:-/usr/sbin/nginx}"
export TEST_NGINX_LOAD_MODULES="${TEST_NGINX_LOAD_MODULES:-$PWD/build/ngx_http_parley_module.so}"

[ $# -gt 0 ] || set -- -r t/

# shellcheck disable=SC2016
exec perl -It/lib -MTest::Parley::Ports -e '
    Test::Parley::Ports::setup();
    my $status = system(@ARGV);
    Test::Parley::Ports::cleanup() if $status == 0;
    exit($status == 0 ? 0 : ($status >> 8) || 1);
' prove -I"$up/lib" -It/lib "$@"
