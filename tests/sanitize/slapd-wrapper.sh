#!/bin/sh
# DEVICEPW_IT_SLAPD_WRAPPER for the sanitizer tests: runs slapd (or slapadd/slaptest)
# with ASan's runtime preloaded, so that the instrumented module can be loaded into the
# uninstrumented slapd (ASan's runtime must come first in the library list). UBSan's
# runtime comes with the module (a NEEDED library). DEVICEPW_SANITIZE_PRELOAD also names
# exit_shim.c's library: without it these programs hang at exit (see there).
#
# Leak detection is off for slapd: slapd itself is not instrumented and does not free
# everything at exit (schema, configuration, the thread pool), so LeakSanitizer would
# report slapd's own leaks. Memory errors (ASan) and undefined behaviour (UBSan) in
# slapd's process are reported; reports go where ASAN_OPTIONS/UBSAN_OPTIONS say
# (check.sh sets log_path).
: "${DEVICEPW_SANITIZE_PRELOAD:?libasan.so:devicepw_sanitize_exit_shim.so (set by the sanitize tests)}"
LD_PRELOAD="$DEVICEPW_SANITIZE_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export LD_PRELOAD ASAN_OPTIONS
exec "$@"
