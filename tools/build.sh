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

# The compiler and linker options the distribution built its nginx with
# (nginx -V): conf_flags leaves them out, and without them the module would
# be built at -O1 and without the distribution's hardening. The
# -ffile-prefix-map of the distribution's build machine is left out.
nginx_bin=${PARLEY_NGINX:-/usr/sbin/nginx}
cc_opt=""
ld_opt=""
if [ -x "$nginx_bin" ]; then
    nginx_v=$("$nginx_bin" -V 2>&1)
    cc_opt=$(printf '%s\n' "$nginx_v" \
             | sed -n "s/.*--with-cc-opt='\([^']*\)'.*/\1/p" \
             | sed 's/-ffile-prefix-map=[^ ]*//g')
    ld_opt=$(printf '%s\n' "$nginx_v" \
             | sed -n "s/.*--with-ld-opt='\([^']*\)'.*/\1/p")
fi

cd "$src"
./configure --with-compat "${NGX_CONF_FLAGS[@]}" \
    ${cc_opt:+"--with-cc-opt=$cc_opt"} ${ld_opt:+"--with-ld-opt=$ld_opt"} \
    --add-dynamic-module="$top" --builddir="$builddir" \
    > "$builddir/configure.log" 2>&1 || {
        cat "$builddir/configure.log" >&2
        exit 1
    }
