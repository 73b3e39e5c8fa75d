# common.sh — sourced by the simulator's tests: a temporary site, the
# simulator started on it, and cleanup of every process and file on exit.
# Needs SAFETYGW_BUILD_DIR and SAFETYGW_SOURCE_DIR (set by ctest).
set -euo pipefail

: "${SAFETYGW_BUILD_DIR:?set by ctest}" "${SAFETYGW_SOURCE_DIR:?set by ctest}"
SIM="$SAFETYGW_BUILD_DIR/sensors/sim/safetygw-sim"
PROBE="$SAFETYGW_BUILD_DIR/tests/sim/sim_probe"
PROFILES="$SAFETYGW_SOURCE_DIR/config/profiles"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/safetygw-sim-test.XXXXXX")
CONTROL="$WORK/sim.sock"
SIM_PID=""
source "$SAFETYGW_SOURCE_DIR/tests/wait_until.sh"

cleanup() {
    local status=$?
    if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ -f "$WORK/sim.log" ]; then
        echo "--- simulator log ---" >&2
        tail -n 40 "$WORK/sim.log" >&2
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

pass() {
    echo "ok: $*"
}

# A TCP port nobody listens on, from the kernel's ephemeral range.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_sim ARGS... — runs the simulator on $WORK/site.yaml, waits until it says it is ready
# (the socket file appears at bind(), before listen(): a connect then is refused).
# The log of a simulator before is removed first: the new one truncates it only once
# it runs, and its "ready" must not be mistaken for the new one's.
start_sim() {
    rm -f "$WORK/sim.log"
    "$SIM" -c "$WORK/site.yaml" --control "$CONTROL" "$@" >"$WORK/sim.log" 2>&1 &
    SIM_PID=$!
    for _ in $(seq 100); do
        grep -qs "safetygw-sim: ready:" "$WORK/sim.log" && return 0
        kill -0 "$SIM_PID" 2>/dev/null || fail "simulator exited: $(cat "$WORK/sim.log")"
        sleep 0.05
    done
    fail "simulator not ready after 5 s"
}

# stop_sim — SIGTERM, and wait for it to exit.
stop_sim() {
    kill -TERM "$SIM_PID"
    wait "$SIM_PID" || fail "simulator exited with status $?"
    SIM_PID=""
}

# send COMMAND — one control command; prints the reply; fails the test on "error".
send() {
    "$SIM" --control "$CONTROL" send "$1" || fail "command '$1' was refused"
}

# expect WHAT ACTUAL WANTED
expect() {
    [ "$2" = "$3" ] || fail "$1: got '$2', wanted '$3'"
    pass "$1: $2"
}

# write_site — $WORK/site.yaml: one RS-485 line (a pty at $LINE, 9600 8N1) and
# one Modbus TCP converter (127.0.0.1:$TCP_PORT), each with two gas alarms, a
# lift and a charging pile.
write_site() {
    LINE="$WORK/dev/line-a"
    TCP_PORT=$(free_port)
    cat >"$WORK/site.yaml" <<YAML
gateway: { id: sim-test, state_dir: $WORK/state, control_socket: $WORK/gateway.sock }
mqtt: { uri: "tcp://127.0.0.1:1883" }
profiles: [ $PROFILES ]
buses:
  - { name: line-a, type: rtu, port: $LINE, baud: 9600, parity: N, data_bits: 8,
      stop_bits: 1, timeout_ms: 300 }
  - { name: conv-b, type: tcp, host: 127.0.0.1, port: $TCP_PORT, timeout_ms: 500 }
devices:
  - { id: gas-a1, profile: gas-alarm, bus: line-a, address: 1 }
  - { id: gas-a2, profile: gas-alarm, bus: line-a, address: 2 }
  - { id: lift-a3, profile: elevator, bus: line-a, address: 3 }
  - { id: shed-a4, profile: ebike-charger-10, bus: line-a, address: 4 }
  - { id: gas-b1, profile: gas-alarm, bus: conv-b, address: 1 }
  - { id: gas-b5, profile: gas-alarm, bus: conv-b, address: 5 }
  - { id: lift-b7, profile: elevator, bus: conv-b, address: 7 }
  - { id: shed-b9, profile: ebike-charger-10, bus: conv-b, address: 9 }
YAML
}

# rtu_probe ARGS... / tcp_probe ARGS... — sim_probe on the site's line or converter.
rtu_probe() {
    "$PROBE" --timeout-ms "${PROBE_TIMEOUT_MS:-400}" rtu "$LINE" 9600 N 8 1 "$@"
}
tcp_probe() {
    "$PROBE" --timeout-ms "${PROBE_TIMEOUT_MS:-400}" tcp 127.0.0.1 "$TCP_PORT" "$@"
}
