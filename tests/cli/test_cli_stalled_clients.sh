#!/bin/bash
# Clients that ask for a big answer and never read it (a hung script, a
# stopped monitoring plug-in) cannot lock the crew out: with 40 of them
# holding a 300 KB `devices` answer each, and then with 100 (more than the
# daemon has slots, and more answer memory than it will hold), every
# `safetygw status` of a well-behaved client succeeds. The stalled answers are
# dropped once they make no progress, or to make room.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/cli_lib.sh"

CLIENTS="$SAFETYGW_SOURCE_DIR/tests/cli/control_clients.py"
SLOTS=64                     # CONTROL_MAX_CLIENTS
RESPONSE_MEMORY=$((16 << 20)) # CONTROL_RESPONSE_MEMORY_MAX
BUSES=6
DEVICES_PER_BUS=200

# big_site FILE: BUSES RTU buses of DEVICES_PER_BUS gas alarms each, on serial
# ports that do not exist: nothing answers, every device stays "unknown", and
# `devices` is a few hundred KB.
big_site() {
    cat >"$1" <<SITE
gateway: { id: gw-test, site: test, state_dir: $WORK/state, control_socket: $WORK/control.sock }
mqtt: { uri: "tcp://127.0.0.1:$BROKER_PORT", topic_prefix: safetygw/test/gw-test, qos: 1 }
profiles: [ $PROFILES ]
buses:
SITE
    local b d
    for b in $(seq 1 $BUSES); do
        echo "  - { name: bldg-$b, type: rtu, port: $WORK/missing-tty-$b, baud: 9600 }" >>"$1"
    done
    echo "devices:" >>"$1"
    for b in $(seq 1 $BUSES); do
        for d in $(seq 1 $DEVICES_PER_BUS); do
            echo "  - { id: gas-$b-$d, profile: gas-alarm, bus: bldg-$b, address: $d," \
                 "location: { compound: 长寿新村, building: \"$b\", unit: \"1\", room: \"$d\" } }"
        done >>"$1"
    done
}

start_broker
big_site "$WORK/site.yaml"
SOCKET="$WORK/control.sock"
start_daemon "$WORK/site.yaml"
answering() { holds .ok "$("$CLI" status --socket "$SOCKET" --json 2>/dev/null)"; }
wait_until 20 answering || { fail "the daemon does not answer"; finish; exit 1; }

answer_bytes=$(printf '{"cmd":"devices"}\n' | socat -t 5 - "UNIX-CONNECT:$SOCKET" | wc -c)
check "a devices answer is bigger than a socket buffer takes ($answer_bytes bytes)" \
    test "$answer_bytes" -gt 250000

# stall COUNT NAME: COUNT clients ask for `devices` and never read; returns once all are connected.
stall() {
    python3 "$CLIENTS" "$SOCKET" "$1" --request '{"cmd":"devices"}' --ready "$WORK/$2.ready" \
        >"$WORK/$2.report" 2>"$WORK/$2.err" &
    STALLED_PID=$!
    PIDS="$PIDS $STALLED_PID"
    wait_until 20 test -s "$WORK/$2.ready"
}

# ask_status_for SECONDS: `safetygw status` as fast as it can for SECONDS, and on a
# busy machine until it made 10 calls (for at most 30 s); sets CALLS, FAILED and SLOWEST_MS.
ask_status_for() {
    local end=$((SECONDS + $1)) deadline=$((SECONDS + 30)) out started took
    CALLS=0 FAILED=0 SLOWEST_MS=0
    while [ "$SECONDS" -lt "$end" ] || { [ "$CALLS" -lt 10 ] && [ "$SECONDS" -lt "$deadline" ]; }; do
        started=$(date +%s%3N)
        if ! out=$("$CLI" status --socket "$SOCKET" --json 2>&1) || ! holds .ok "$out"; then
            FAILED=$((FAILED + 1))
            [ "$FAILED" -gt 3 ] || echo "failed call: ${out:0:200}"
        fi
        took=$(($(date +%s%3N) - started))
        [ "$took" -le "$SLOWEST_MS" ] || SLOWEST_MS=$took
        CALLS=$((CALLS + 1))
    done
}

# logged TEXT: how many daemon log lines contain TEXT.
logged() { grep -c -- "$1" "$WORK/daemon.log" || true; }

# --- 40 stalled clients: fewer than the slots, they wait their stall deadline out
check "40 clients ask for devices and stop reading" stall 40 forty
ask_status_for 3
check "while they hang, all $CALLS status calls succeed ($FAILED failed, slowest $SLOWEST_MS ms)" \
    test "$CALLS" -ge 10 -a "$FAILED" = 0
forty_dropped() { [ "$(logged 'made no progress for 5000 ms; its answer is dropped')" -ge 40 ]; }
check "each stalled answer is dropped after 5 s without progress" wait_until 15 forty_dropped
kill -TERM "$STALLED_PID"; wait "$STALLED_PID" || true
check "none of the 40 got its whole answer" \
    test "$(jq -s '[.[] | select(.complete | not)] | length' "$WORK/forty.report")" = 40

# --- 100 stalled clients: more than the slots and than the answer memory allows
check "100 clients ask for devices and stop reading" stall 100 hundred
ask_status_for 3
check "while they hang, all $CALLS status calls succeed ($FAILED failed, slowest $SLOWEST_MS ms)" \
    test "$CALLS" -ge 10 -a "$FAILED" = 0
for_room=$(logged 'to make room: all 64 slots taken')
for_memory=$(logged "to keep answers under the $RESPONSE_MEMORY-byte limit")
check "the least progressing were dropped for slots ($for_room) or memory ($for_memory)" \
    test $((for_room + for_memory)) -ge $((100 - SLOTS))
if [ $((SLOTS * answer_bytes)) -gt "$RESPONSE_MEMORY" ]; then
    check "$SLOTS answers of $answer_bytes bytes are more than the daemon holds: some dropped for memory" \
        test "$for_memory" -ge 1
fi
kill -TERM "$STALLED_PID"; wait "$STALLED_PID" || true

check "the daemon answers normally afterwards" answering
devices_count() { printf '{"cmd":"devices"}\n' | socat -t 5 - "UNIX-CONNECT:$SOCKET" | jq '.devices | length'; }
check "and gives a whole devices answer again" test "$(devices_count)" = $((BUSES * DEVICES_PER_BUS))
finish
