#!/bin/bash
# Broker failover. (1) mosquitto stopped and started five times, a few
# seconds apart, while a gas leak rises and falls: every alarm event reaches a
# persistent subscriber, in seq order with no gap, and the daemon reconnects
# after the last start. (2) mqtt.uris lists two brokers: the daemon moves to the
# second when the first stops; events queued while both are down, and kept on
# disk across a SIGKILL, go out to the second node: one message store serves
# the whole list, whichever node the daemon last reached.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_city.sh"

level() { sim set gas-1 gas_lel "$1" >/dev/null; }
more_events_than() { [ "$(logged_events)" -gt "$1" ]; }
# toggle_leak: a leak raised if the gas is low, cleared if high; waits until the daemon decided.
LEVEL=0
toggle_leak() {
    local before
    before=$(logged_events)
    if [ "$LEVEL" = 0 ]; then LEVEL=30; else LEVEL=0; fi
    level "$LEVEL"
    wait_until 10 more_events_than "$before" || fail "no alarm event after gas_lel=$LEVEL"
}
received_unique() { alarm_seqs "$1" | sort -un | wc -l; }
# The seq numbers the daemon gave out: 1 .. next_seq - 1 (state_dir starts empty).
numbered() { "$CLI" status --json --socket "$WORK/control.sock" | jq -r '.next_seq - 1'; }
all_received() { local n; n=$(numbered) && [ "$(received_unique "$1")" -ge "$n" ]; }

# --- (1) one broker, flapping
start_broker
profiles_without_chatter # the leak flips gas every second on purpose
write_site "$WORK/site.yaml" 1 200
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe_durable "$WORK/alarms.txt" "$TOPIC_PREFIX/alarm/#"
start_daemon_supervised "$WORK/site.yaml" # see gateway/mqtt_store.c, refuse_damaged_resend
check "daemon connects" wait_until 10 daemon_connected
toggle_leak
back_since() { [ "$(connections_after "$1")" -ge 1 ]; }
for round in $(seq 1 "${FLAP_ROUNDS:-5}"); do
    stop_broker
    toggle_leak  # raised or cleared while the broker is away
    sleep 2      # the scenario's pace, not a wait: the broker stays away 2 s more
    start_broker "$BROKER_PORT"
    mark=$(log_lines)
    sleep 1      # the scenario's pace, not a wait: the next event 1 s after the broker's start
    toggle_leak  # maybe before the daemon is back: queued, then sent
    # the broker stays up until the daemon is back, so that each stop is a loss it sees
    wait_until 30 back_since "$mark" || fail "round $round: the daemon did not reconnect in 30 s"
done
daemon_connected_now() { "$CLI" status --json --socket "$WORK/control.sock" | json_is '.mqtt.connected'; }
check "daemon is connected after the last start" wait_until 20 daemon_connected_now
toggle_leak
check "every event reaches the persistent subscriber" wait_until 30 all_received "$WORK/alarms.txt"
report=$(alarm_seqs "$WORK/alarms.txt" | seq_report)
echo "flapping broker: $report; daemon numbered $(numbered) events"
check "seq has no gap" test "$(report_field gaps "$report")" -eq 0
check "seq arrives in order (duplicates aside)" test "$(report_field disorder "$report")" -eq 0
check "starting at 1" test "$(report_field first "$report")" -eq 1
check "every number the daemon gave out" test "$(report_field unique "$report")" -eq "$(numbered)"
check "the broker went away five times" test "$(grep -c "mqtt: connection to .* lost" "$WORK/daemon.log")" -ge 5
echo "restarts after a damaged re-send: $(grep -c "^supervisor:" "$WORK/daemon.log" || true)"
stop_daemon_supervised
stop_broker

# --- (2) two brokers in mqtt.uris (not bridged: each node is its own broker here)
start_mosquitto nodeA
start_mosquitto nodeB
mv "$WORK/daemon.log" "$WORK/daemon-flapping.log"
sed -e "s#^mqtt: .*#mqtt: { uris: [ \"tcp://127.0.0.1:$nodeA_PORT\", \"tcp://127.0.0.1:$nodeB_PORT\" ], topic_prefix: $TOPIC_PREFIX, qos: 1 }#" \
    -e "s#state_dir: $WORK/state#state_dir: $WORK/state2#" "$WORK/site.yaml" >"$WORK/site2.yaml"
subscribe_durable_at "$nodeA_PORT" "$WORK/a.txt" "$TOPIC_PREFIX/alarm/#" "sub-a-$$"
subscribe_durable_at "$nodeB_PORT" "$WORK/b.txt" "$TOPIC_PREFIX/alarm/#" "sub-b-$$"
level 0
sim calm gas-1 >/dev/null
LEVEL=0
start_daemon "$WORK/site2.yaml"
connected_to() { grep -q "mqtt: connected to tcp://127.0.0.1:$1" "$WORK/daemon.log"; }
check "the daemon reaches the first node of mqtt.uris" wait_until 10 connected_to "$nodeA_PORT"
wait_until 10 daemon_connected_now || true
toggle_leak
events_seen() { [ "$(alarm_seqs "$1" | wc -l)" -ge 1 ]; }
# Node A stops only once it has every event so far: messages still in flight to it
# when it goes are discarded by Paho on the move to node B, which has no session of
# the gateway's (logged; docs/deployment-city.md), and the checks below would see a gap.
all_at_a() { [ "$(alarm_seqs "$WORK/a.txt" | sort -un | wc -l)" -ge "$(numbered)" ]; }
check "every event so far reaches node A" wait_until 10 all_at_a
stop_mosquitto nodeA
check "when node A stops, the daemon moves to node B" wait_until 10 connected_to "$nodeB_PORT"
toggle_leak
check "events then reach node B" wait_until 10 events_seen "$WORK/b.txt"

stop_mosquitto nodeB
toggle_leak   # queued on disk: no node is up
toggle_leak
stored_seqs() { cat "$WORK"/state2/mqtt/*/*.msg 2>/dev/null | grep -ao '"seq":[0-9]*' | cut -d: -f2; }
stored() { stored_seqs | grep -q .; }
check "events wait on disk while no node is up" wait_until 10 stored
# The SIGKILL comes once every number given out is delivered or on disk: between the
# seq file and the store a crash may skip numbers (docs/mqtt.md), a gap this test would see.
# (Under ASan on a loaded machine 10 s was once not enough: 1 run in 5.)
kept() { [ "$( (alarm_seqs "$WORK/a.txt"; alarm_seqs "$WORK/b.txt"; stored_seqs) | sort -un | wc -l)" -ge "$(numbered)" ]; }
check "every number given out is delivered or on disk" wait_until 30 kept
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
folders=$(find "$WORK/state2/mqtt" -mindepth 1 -maxdepth 1 -type d | wc -l)
check "one message store for the whole server list" test "$folders" -eq 1
check "named after the first node" test -d "$WORK/state2/mqtt/gw-test-127.0.0.1-$nodeA_PORT"

start_mosquitto nodeB "$nodeB_PORT"
start_daemon "$WORK/site2.yaml"   # node A stays down: the list is walked to B
all_received_ab() { [ "$(cat "$WORK/a.txt" "$WORK/b.txt" | grep -c "^$TOPIC_PREFIX/alarm/" | tr -d ' ')" -gt 0 ] &&
    [ "$( (alarm_seqs "$WORK/a.txt"; alarm_seqs "$WORK/b.txt") | sort -un | wc -l)" -ge "$(numbered)" ]; }
check "after a restart the queued events go out to node B" wait_until 20 all_received_ab
report=$( (alarm_seqs "$WORK/a.txt"; alarm_seqs "$WORK/b.txt") | sort -n | seq_report)
echo "two nodes: $report; daemon numbered $(numbered) events"
check "no gap across the switch of node and the restart" test "$(report_field gaps "$report")" -eq 0
b_report=$(alarm_seqs "$WORK/b.txt" | seq_report)
check "node B's subscriber gets them in order" test "$(report_field disorder "$b_report")" -eq 0
finish
