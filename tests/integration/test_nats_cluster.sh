#!/bin/bash
# A real broker cluster: three nats-server nodes (JetStream, an MQTT listener
# each) on loopback. The gateway lists all three (node 1 first); `safetygw
# watch` consumes on node 3. Alarms are raised and cleared continuously while
# node 1 is SIGKILLed and later started again. Every event reaches the
# consumer, seq has no gap, repeats are reported as duplicates, the gateway
# moves to another node, and its retained status and Last Will work on the
# cluster as on one broker.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_city.sh"
skip_without_nats

nats_cluster_ports 3
for i in 1 2 3; do start_nats_node "$i"; done
check "the cluster's MQTT listener takes persistent sessions (JetStream is up)" \
    wait_until 60 nats_mqtt_ready "$NATS_MQTT_3"

# The operations console on node 3.
"$CLI" watch --broker "tcp://127.0.0.1:$NATS_MQTT_3" --json --client-id ops-watch \
    >"$WORK/watch.jsonl" 2>"$WORK/watch.log" &
WATCH_PID=$!
PIDS="$PIDS $WATCH_PID"
watch_connected() { grep -q "safetygw watch: connected to" "$WORK/watch.log"; }
check "safetygw watch connects to node 3" wait_until 30 watch_connected

BROKER_PORT=$NATS_MQTT_1 # for write_site; replaced by the list below
profiles_without_chatter # the leak flips gas every second on purpose
write_site "$WORK/site.yaml" 1 200
sed -i "s#^mqtt: .*#mqtt: { uris: [ \"tcp://127.0.0.1:$NATS_MQTT_1\", \"tcp://127.0.0.1:$NATS_MQTT_2\", \"tcp://127.0.0.1:$NATS_MQTT_3\" ], topic_prefix: $TOPIC_PREFIX, qos: 1 }#" \
    "$WORK/site.yaml"
start_sim "$WORK/site.yaml" --no-wire-delay
start_daemon_supervised "$WORK/site.yaml"
connected_to() { grep -q "mqtt: connected to tcp://127.0.0.1:$1" "$WORK/daemon.log"; }
check "the gateway connects to node 1, the first of mqtt.uris" wait_until 30 connected_to "$NATS_MQTT_1"
# Both of the console's subscriptions are through before a node dies (a JetStream
# consumer still being made then may be refused): it has seen the gateway's status.
status_seen() { json_is "select(.type == \"status\" and .state == \"$1\")" <"$WORK/watch.jsonl" 2>/dev/null; }
check "the console sees the gateway online" wait_until 30 status_seen online

# Gas rises and falls continuously: each change raises or clears alarms.
(
    level=0
    while [ ! -e "$WORK/leak.stop" ]; do
        if [ "$level" = 0 ]; then level=30; else level=0; fi
        "$SIM" --control "$SIM_SOCKET" send "set gas-1 gas_lel $level" >/dev/null 2>&1 || true
        sleep 0.7 # the pace of the leak, not a wait for anything
    done
) &
LEAK_PID=$!
PIDS="$PIDS $LEAK_PID"

watch_events() { jq -r 'select(.type == "event") | .seq' "$WORK/watch.jsonl" 2>/dev/null | sort -un | wc -l; }
some_events() { [ "$(watch_events)" -ge "$1" ]; }
check "events flow to the console on node 3" wait_until 30 some_events 8

kill_nats_node 1
moved() { grep -q "mqtt: connected to tcp://127.0.0.1:\($NATS_MQTT_2\|$NATS_MQTT_3\)" "$WORK/daemon.log"; }
check "node 1 killed: the gateway moves to another node" wait_until 30 moved
before=$(watch_events)
check "events keep flowing" wait_until 30 some_events $((before + 8))
start_nats_node 1
before=$(watch_events)
check "and with node 1 started again" wait_until 30 some_events $((before + 8))
touch "$WORK/leak.stop"
wait "$LEAK_PID" 2>/dev/null || true
sim set gas-1 gas_lel 0 >/dev/null
gas_calm() { "$CLI" alarms --json --socket "$WORK/control.sock" | json_is '[.alarms[] | select(.device == "gas-1")] | length == 0'; }
check "the leak is over: no alarm left on gas-1" wait_until 30 gas_calm

numbered() { "$CLI" status --json --socket "$WORK/control.sock" | jq -r '.next_seq - 1'; }
all_arrived() { local n; n=$(numbered) && [ "$(watch_events)" -ge "$n" ]; }
check "every event the gateway numbered reaches the console" wait_until 60 all_arrived

report=$(jq -r 'select(.type == "event") | .seq' "$WORK/watch.jsonl" | seq_report)
echo "nats cluster: $report; gateway numbered $(numbered) events"
check "seq has no gap" test "$(report_field gaps "$report")" -eq 0
check "no event is missing" test "$(report_field unique "$report")" -eq "$(numbered)"
no_gap_reported() { ! json_is 'select(.type == "gap")' <"$WORK/watch.jsonl"; }
check "watch reported no gap" no_gap_reported
repeats=$(report_field duplicates "$report")
marked=$(jq -r 'select(.type == "event" and .verdict == "duplicate") | .seq' "$WORK/watch.jsonl" | wc -l)
echo "repeated deliveries: $repeats, marked as duplicates by watch: $marked"
check "every repeated delivery is marked as a duplicate" test "$marked" -eq "$repeats"

# Retained status on the cluster: a console that subscribes late, on node 2, gets it.
retained_online() {
    mosquitto_sub -h 127.0.0.1 -p "$NATS_MQTT_2" -q 1 -t "$TOPIC_PREFIX/status" -C 1 -W 3 2>/dev/null |
        grep -q '"state":"online"'
}
check "a late subscriber on node 2 gets the retained online status" wait_until 20 retained_online

# Last Will: the gateway dies without a word; the cluster tells the console.
touch "$WORK/supervisor.stop"
kill -KILL "$(cat "$WORK/daemon.pid")"
check "the gateway's Last Will reaches the console" wait_until 90 status_seen offline

kill -TERM "$WATCH_PID"
watch_status=0
wait "$WATCH_PID" || watch_status=$?
check "watch exits 0: no gap left open" test "$watch_status" -eq 0
grep "safetygw watch: gw-test:" "$WORK/watch.log" || true
finish
