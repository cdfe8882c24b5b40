#!/bin/bash
# Configures the module against the distribution's nginx headers
# (nginx-dev's tree) with the same flags as the distribution's binary, so
# that /usr/sbin/nginx accepts it. Usage: tools/build.sh BUILDDIR
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=$1
src=/usr/share/nginx/src

mkdir -p "$builddir"
builddir=$(cd "$builddir" && pwd)

# shellcheck disable=SC1091
. "$src/conf_flags"

cd "$src"
./configure --with-compat "${NGX_CONF_FLAGS[@]}" \
    --add-dynamic-module="$top" --builddir="$builddir" \
    > "$builddir/configure.log" 2>&1 || {
        cat "$builddir/configure.log" >&2
        exit 1
    }
