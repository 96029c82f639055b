#!/bin/sh
# The module must export exactly one symbol, init_module: slapd resolves only that,
# and anything else would be interposed into slapd's RTLD_GLOBAL namespace.
set -eu
module=${1:?usage: check-exports.sh MODULE.so}
exports=$(nm -D --defined-only "$module" | awk '{print $3}' | sort)
if [ "$exports" != "init_module" ]; then
    echo "error: $module exports more than init_module:" >&2
    echo "$exports" >&2
    exit 1
fi
echo "ok: $module exports only init_module"
