#!/bin/bash
# Maintenance shelving: a shelved device's events still go out, marked
# "shelved" (until, reason, by), while its local interlock still acts; the
# shelving survives a restart; the crew shelves from the CLI, the operations
# center with an MQTT command, and either can end it.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 2 500
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/#"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected
online() { grep -q "device $1 is online" "$WORK/daemon.log"; }
check "the devices answer" wait_until 10 online gas-1

cli() { "$CLI" "$@" --socket "$WORK/control.sock"; }
device_json() { cli device "$1" --json; }
command() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$TOPIC_PREFIX/cmd/$1" -m "$2"; }
result() {
    awk -v t="$TOPIC_PREFIX/cmd-result/$1" '$1 == t { $1 = ""; print substr($0, 2) }' "$WORK/mqtt.txt" |
        jq -c --arg id "$2" 'select(.id == $id)'
}
answered() { [ -n "$(result "$1" "$2")" ]; }

check "the CLI shelves a device" cli shelve gas-1 --for 2h --reason "replacing the sensor"
shelved_for() { json_is ".device.shelved[0].reason == \"$2\" and .device.shelved[0].by == \"$3\"" <<<"$(device_json "$1")"; }
check "the device shows the shelving" wait_until 5 shelved_for gas-1 "replacing the sensor" cli

sim set gas-1 gas_lel 30 >/dev/null
check "its gas alarm still goes out" wait_until 15 has_event "$WORK/mqtt.txt" gas-1 gas_high raised
raised=$(events "$WORK/mqtt.txt" gas-1 gas_high raised | head -n 1)
check "marked shelved, with the reason and who shelved it" \
    json_is '.shelved.reason == "replacing the sensor" and .shelved.by == "cli" and (.shelved.until | test("T"))' <<<"$raised"
check "and its valve still closed" json_is '.action == "close_valve" and .action_ok == true' <<<"$raised"
valve_closed() { [ "$(sim get gas-1 status.valve_closed)" = "ok 1" ]; }
check "the valve is closed in the device" wait_until 5 valve_closed
check "the crew sees it in alarms" bash -c "'$CLI' alarms --socket '$WORK/control.sock' | grep -q 'shelved until'"

kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
start_daemon "$WORK/site.yaml"
check "the shelving survives a restart" wait_until 10 shelved_for gas-1 "replacing the sensor" cli
sim set gas-1 gas_lel 0 >/dev/null
check "the clear after the restart is marked shelved too" wait_until 15 has_event "$WORK/mqtt.txt" gas-1 gas_high cleared
check "with the same reason" json_is '.shelved.reason == "replacing the sensor"' \
    <<<"$(events "$WORK/mqtt.txt" gas-1 gas_high cleared | head -n 1)"

command gas-1 '{"id":"u-1","action":"unshelve"}'
check "the operations center unshelves it" wait_until 10 answered gas-1 u-1
check "which succeeds" json_is '.ok == true' <<<"$(result gas-1 u-1)"
not_shelved() { json_is '.device.shelved == []' <<<"$(device_json gas-1)"; }
check "and the device is no longer shelved" wait_until 5 not_shelved

command lift-1 '{"id":"s-1","action":"shelve","alarm":"trapped","for":"1h","reason":"lift under repair"}'
check "the operations center shelves one alarm" wait_until 10 answered lift-1 s-1
sim hazard lift-1 trapped >/dev/null
check "that alarm goes out marked shelved by mqtt" \
    wait_until 15 has_event "$WORK/mqtt.txt" lift-1 trapped raised
check "by mqtt" json_is '.shelved.by == "mqtt" and .shelved.reason == "lift under repair"' \
    <<<"$(events "$WORK/mqtt.txt" lift-1 trapped raised | head -n 1)"

command lift-1 '{"id":"s-2","action":"shelve","for":"forever","reason":"x"}'
check "a shelving without a real duration is refused" wait_until 10 answered lift-1 s-2
check "saying what a duration is" json_is '.ok == false and (.error | test("duration"))' <<<"$(result lift-1 s-2)"
check "the CLI refuses a missing reason" bash -c "! '$CLI' shelve gas-2 --for 1h --socket '$WORK/control.sock' 2>/dev/null"
finish
