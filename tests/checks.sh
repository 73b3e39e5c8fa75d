# checks.sh — the counting every test script shares: check a behaviour, say
# "ok:" or "FAIL:", and end with the "N passed, N failed" line ctest shows.
# Sourced by the test libraries; FAILURES and CHECKS start at 0.
FAILURES=0
CHECKS=0

fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
pass() { echo "ok: $*"; }

# check DESCRIPTION COMMAND...: runs the command, counts a failure if it fails.
check() {
    local description=$1; shift
    CHECKS=$((CHECKS + 1))
    if "$@"; then pass "$description"; else fail "$description"; fi
}

# Ends the test: prints the closing line and exits non-zero on failure.
finish() {
    echo "$((CHECKS - FAILURES)) passed, $FAILURES failed"
    [ "$FAILURES" -eq 0 ]
}
