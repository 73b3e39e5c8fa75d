# shellcheck shell=bash
# Shared helpers of the service tests. Source it from a test script; it sets
# `set -eu`, a scratch folder $WORK removed on exit, and check/finish.
set -eu

: "${SAFETYGW_BUILD_DIR:?run from ctest (SAFETYGW_BUILD_DIR unset)}"
: "${SAFETYGW_SOURCE_DIR:?run from ctest (SAFETYGW_SOURCE_DIR unset)}"
UNIT="$SAFETYGW_SOURCE_DIR/systemd/safetygwd.service"
SYSUSERS="$SAFETYGW_SOURCE_DIR/systemd/safetygw.sysusers"
TMPFILES="$SAFETYGW_SOURCE_DIR/systemd/safetygw.tmpfiles"

WORK=$(mktemp -d /tmp/safetygw-service-test.XXXXXX)
CLEANUP_HOOKS=""

cleanup() {
    for hook in $CLEANUP_HOOKS; do "$hook" || true; done
    if [ "$FAILURES" -ne 0 ] || [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "--- work folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$SAFETYGW_SOURCE_DIR/tests/checks.sh"

# cache_value NAME: a value from the build's CMakeCache.txt.
cache_value() {
    sed -n "s/^$1:[A-Z]*=//p" "$SAFETYGW_BUILD_DIR/CMakeCache.txt"
}

# unit_has KEY=VALUE: the unit sets exactly this line.
unit_has() { grep -qxF -- "$1" "$UNIT"; }
