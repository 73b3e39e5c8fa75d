# Shared helpers of the integration tests: a real mosquitto on a free loopback
# port, the real simulator and the real daemon, all stopped on exit.
# Source it from a test script; it sets `set -eu` and a cleanup trap.
set -eu

: "${SAFETYGW_BUILD_DIR:?run from ctest (SAFETYGW_BUILD_DIR unset)}"
: "${SAFETYGW_SOURCE_DIR:?run from ctest (SAFETYGW_SOURCE_DIR unset)}"
SIM="$SAFETYGW_BUILD_DIR/sensors/sim/safetygw-sim"
DAEMON="$SAFETYGW_BUILD_DIR/gateway/safetygwd"
CLI="$SAFETYGW_BUILD_DIR/gateway/safetygw"
PROFILES="$SAFETYGW_SOURCE_DIR/config/profiles"

WORK=$(mktemp -d /tmp/safetygw-test.XXXXXX)
PIDS=""

# running_child PID: a process this shell started that has not exited yet (a
# zombie has exited; a PID since reused has another parent).
running_child() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) } # after "pid (comm) ": state ppid ...
    set -- $stat
    [ "$1" != Z ] && [ "$2" = $$ ]
}

# exited PID: this shell's child PID has exited (its status is still there for `wait`).
exited() { ! running_child "$1"; }

all_stopped() {
    local pid
    for pid in $PIDS; do ! running_child "$pid" || return 1; done
}

# A frozen daemon never takes its SIGTERM (the main thread takes signals): the
# test reports what it found instead of hanging until ctest's timeout.
stop_all() {
    local pid
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    if ! wait_until 30 all_stopped; then
        for pid in $PIDS; do
            running_child "$pid" || continue
            echo "--- still running 30 s after SIGTERM, killed: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
            kill -KILL "$pid" 2>/dev/null || true
        done
    fi
    for pid in $PIDS; do wait "$pid" 2>/dev/null || true; done
}

# Reports of ThreadSanitizer, AddressSanitizer and UBSan in the logs of the
# programs under test (daemon, simulator, CLI): each fails the test, whatever
# its checks said, and is shown up to its SUMMARY line.
SANITIZER_REPORT='WARNING: ThreadSanitizer|ERROR: AddressSanitizer|runtime error:'
check_sanitizer_reports() {
    local log
    for log in "$WORK"/*.log; do
        [ -f "$log" ] && grep -Eq "$SANITIZER_REPORT" "$log" || continue
        fail "sanitizer report in $log:"
        awk -v report="$SANITIZER_REPORT" '$0 ~ report { on = 1 } on && shown++ < 80 { print }
                                           /^SUMMARY: / { on = 0 }' "$log"
    done
}

cleanup() {
    local failures_before=$FAILURES
    stop_all
    check_sanitizer_reports
    if [ "$FAILURES" -ne 0 ] || [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "--- logs kept in $WORK"
        for log in "$WORK"/*.log; do
            [ -f "$log" ] || continue
            echo "--- tail of $log"; tail -n 30 "$log"
        done
    else
        rm -rf "$WORK"
    fi
    # Only a failure found here changes the exit status the script already has.
    [ "$FAILURES" -eq "$failures_before" ] || exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$SAFETYGW_SOURCE_DIR/tests/checks.sh"
. "$SAFETYGW_SOURCE_DIR/tests/wait_until.sh"

# A TCP port on 127.0.0.1 that nothing listens on now, below the kernel's ephemeral
# range: there another test's outgoing connection could take it before we listen.
free_port() {
    local port
    while :; do
        port=$((10000 + RANDOM % 22000)) # below the ephemeral range (32768-)
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"; return
        fi
    done
}

# profiles_without_chatter: PROFILES becomes a copy of the shipped profiles with
# chattering shelving off, for tests that flip a reading on purpose and count
# every raise and clear (shelving itself: test_alarm_management.sh).
profiles_without_chatter() {
    mkdir -p "$WORK/profiles"
    local profile
    for profile in "$PROFILES"/*.yaml; do
        sed 's/severity: \([a-z]*\)/severity: \1, chatter: off/' "$profile" \
            >"$WORK/profiles/$(basename "$profile")"
    done
    PROFILES="$WORK/profiles"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_broker [PORT]: sets BROKER_PORT and BROKER_PID. The broker keeps its
# sessions on disk (under $WORK), so a persistent subscriber misses nothing
# across a broker restart. Extra configuration lines may be put in
# $WORK/mosquitto.extra.conf (TLS, passwords) before the call.
start_broker() {
    BROKER_PORT=${1:-${BROKER_PORT:-$(free_port)}}
    mkdir -p "$WORK/broker"
    # mosquitto started as root runs as its own user: let it write its store
    chmod 755 "$WORK" && chmod 777 "$WORK/broker"
    cat >"$WORK/mosquitto.conf" <<CONF
persistence true
persistence_location $WORK/broker/
listener $BROKER_PORT 127.0.0.1
CONF
    if [ -f "$WORK/mosquitto.extra.conf" ]; then
        cat "$WORK/mosquitto.extra.conf" >>"$WORK/mosquitto.conf"
    else
        echo "allow_anonymous true" >>"$WORK/mosquitto.conf"
    fi
    mosquitto -c "$WORK/mosquitto.conf" >>"$WORK/mosquitto.log" 2>&1 &
    BROKER_PID=$!
    PIDS="$PIDS $BROKER_PID"
    wait_until 10 port_open "$BROKER_PORT" || { fail "mosquitto did not start"; exit 1; }
}

stop_broker() {
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
}

# subscribe FILE TOPIC: records "topic payload" lines of everything under TOPIC.
subscribe() {
    : >"$1"
    subscribe_live "$1" "$2"
}

# subscribe_durable FILE TOPIC: like subscribe, with a persistent session that
# reconnects by itself and gets what was queued for it while it was away.
subscribe_durable() {
    subscribe_live "$1" "$2" -c -i "test-sub-$$"
}

# subscribe_live FILE TOPIC [OPTIONS...]: like subscribe, with mosquitto_sub's
# extra OPTIONS (-c -i ID: a durable session), returning once the subscription
# is known to be live: a probe {"probe":N} published on TOPIC's _probe (TOPIC
# ends in /#) has come through. Readers of FILE skip the probe.
subscribe_live() {
    local file=$1 topic=$2; shift 2
    local probe_topic=${topic%#}_probe probe="{\"probe\":$$$RANDOM}" deadline=$((SECONDS + 30))
    mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -v -t "$topic" "$@" \
        >>"$file" 2>>"$WORK/sub.log" &
    PIDS="$PIDS $!"
    # published again each second: one sent before the subscription reached the broker is lost
    until grep -qF "$probe_topic $probe" "$file" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || { fail "no probe came through $topic in 30 s"; return 1; }
        mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$probe_topic" -m "$probe"
        wait_until 1 grep -qF "$probe_topic $probe" "$file" || true
    done
}

# alarm_seqs FILE: the seq of every alarm event received, in arrival order.
alarm_seqs() { grep "^$TOPIC_PREFIX/alarm/" "$1" | cut -d' ' -f2- | jq -r 'select(.seq) | .seq'; }

# Transitions the daemon logged: "alarm NAME raised|cleared ... on DEVICE".
logged_events() { grep -c "alarm [a-z0-9_.]* \(raised\|cleared\)" "$WORK/daemon.log" || true; }

# start_sim SITE [options...]: sets SIM_SOCKET.
start_sim() {
    local site=$1; shift
    SIM_SOCKET="$WORK/sim.sock"
    local readies
    readies=$(grep -c "safetygw-sim: ready:" "$WORK/sim.log" 2>/dev/null || true)
    "$SIM" -c "$site" --control "$SIM_SOCKET" "$@" >>"$WORK/sim.log" 2>&1 &
    SIM_PID=$!
    PIDS="$PIDS $SIM_PID"
    # "ready" is said after listen(); the socket file exists from bind() on
    sim_ready() { [ "$(grep -c "safetygw-sim: ready:" "$WORK/sim.log")" -gt "${readies:-0}" ]; }
    wait_until 15 sim_ready || { fail "simulator did not start"; exit 1; }
}

sim() { "$SIM" --control "$SIM_SOCKET" send "$*"; }

# The daemon has reached the broker (at least once).
daemon_connected() { grep -q "mqtt: connected" "$WORK/daemon.log"; }

start_daemon() {
    "$DAEMON" -c "$1" --log-level debug >>"$WORK/daemon.log" 2>&1 &
    DAEMON_PID=$!
    PIDS="$PIDS $DAEMON_PID"
}

# events FILE DEVICE ALARM EVENT: payloads of matching alarm events.
events() {
    grep " " "$1" | awk -v t="$TOPIC_PREFIX/alarm/$2" '$1 == t { $1 = ""; print substr($0, 2) }' |
        jq -c --arg a "$3" --arg e "$4" 'select(.alarm == $a and .event == $e)'
}

has_event() { [ -n "$(events "$@")" ]; }

# write_site FILE RTU_DEVICES: a small site with one RTU bus (pty under $WORK) of
# RTU_DEVICES gas alarms at addresses 1.., and one TCP bus with an elevator
# (unit 1) and a charging pile (unit 2). Sets TCP_PORT and TOPIC_PREFIX.
write_site() {
    local file=$1 gas_count=$2 poll_ms=${3:-500}
    TCP_PORT=$(free_port)
    TOPIC_PREFIX="safetygw/test/gw-test"
    cat >"$file" <<SITE
gateway: { id: gw-test, site: test, state_dir: $WORK/state, control_socket: $WORK/control.sock,
           health_interval_ms: 2000 }
mqtt: { uri: "tcp://127.0.0.1:$BROKER_PORT", topic_prefix: $TOPIC_PREFIX, qos: 1 }
profiles: [ $PROFILES ]
buses:
  - { name: bldg-1, type: rtu, port: $WORK/bldg-1, baud: 9600, timeout_ms: 200 }
  - { name: conv-1, type: tcp, host: 127.0.0.1, port: $TCP_PORT, timeout_ms: 300 }
devices:
SITE
    local i
    for i in $(seq 1 "$gas_count"); do
        echo "  - { id: gas-$i, profile: gas-alarm, bus: bldg-1, address: $i, poll_ms: $poll_ms," \
             "location: { compound: 长寿新村, building: \"1\", unit: \"1\", room: \"$((100 + i))\" } }" >>"$file"
    done
    cat >>"$file" <<SITE
  - { id: lift-1, profile: elevator, bus: conv-1, address: 1, poll_ms: $poll_ms,
      location: { compound: 长寿新村, building: "1", unit: "1" } }
  - { id: ebike-1, profile: ebike-charger-10, bus: conv-1, address: 2, poll_ms: $poll_ms,
      location: { compound: 长寿新村, shed: "A" } }
SITE
}

# json_is FILTER <<<JSON: true when there is JSON and jq's FILTER holds for it
# (jq -e alone succeeds on empty input).
json_is() {
    local input
    input=$(cat)
    [ -n "$input" ] && jq -e "$1" >/dev/null <<<"$input"
}
