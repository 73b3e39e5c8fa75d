# wait_until.sh — the one way a test waits: for a condition, with a deadline.
# Sourced by tests/integration/lib.sh and tests/sim/common.sh.

# wait_until SECONDS COMMAND...: polls the command every 0.1 s until it
# succeeds (0) or SECONDS have passed (1).
wait_until() {
    local deadline=$((SECONDS + $1)); shift
    while ! "$@" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}
