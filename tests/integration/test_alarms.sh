#!/bin/bash
# For each device kind, a hazard in the simulator raises the right alarm with
# the contract's payload, and its end clears it; a silent device goes offline
# and comes back. Real mosquitto, real simulator, real daemon.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 3
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/#"
start_daemon "$WORK/site.yaml"

status_online() { grep -q "^$TOPIC_PREFIX/status .*\"state\":\"online\"" "$WORK/mqtt.txt"; }
check "status goes online, retained" wait_until 10 status_online

# --- gas leak in flat 102: gas_high with its interlock, then cleared
sim hazard gas-2 gas_leak >/dev/null
check "gas leak raises gas_high" wait_until 20 has_event "$WORK/mqtt.txt" gas-2 gas_high raised
event=$(events "$WORK/mqtt.txt" gas-2 gas_high raised | head -1)
echo "event: $event"
check "alarm event has every field of the contract" json_is '
    .gateway == "gw-test" and (.seq | type) == "number" and .severity == "critical" and
    .device == "gas-2" and .kind == "gas_alarm" and .location.room == "102" and
    .location.compound == "长寿新村" and .point == "gas_lel" and .value >= 25 and
    .threshold == 25 and .unit == "%LEL" and
    (.raised_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$")) and
    (.ts | test("Z$"))' <<<"$event"
check "gas_high closed the valve (local interlock)" json_is '.action == "close_valve" and .action_ok' <<<"$event"
valve_closed() { [ "$(sim get gas-2 status.valve_closed)" = "ok 1" ]; }
check "the simulated valve is closed" wait_until 5 valve_closed
check "no other flat raised anything" bash -c "! grep -q '/alarm/gas-[13] ' '$WORK/mqtt.txt'"
sim calm gas-2 >/dev/null
check "calm clears gas_high" wait_until 20 has_event "$WORK/mqtt.txt" gas-2 gas_high cleared
check "gas_high raised exactly once" test "$(events "$WORK/mqtt.txt" gas-2 gas_high raised | wc -l)" -eq 1

# --- trapped passenger
sim hazard lift-1 trapped >/dev/null
check "trapped passenger raises trapped" wait_until 10 has_event "$WORK/mqtt.txt" lift-1 trapped raised
check "trapped is critical, on events.trapped" json_is '.severity == "critical" and .point == "events.trapped" and .value == 1' \
    <<<"$(events "$WORK/mqtt.txt" lift-1 trapped raised | head -1)"
sim calm lift-1 >/dev/null
check "calm clears trapped" wait_until 10 has_event "$WORK/mqtt.txt" lift-1 trapped cleared

# --- charging port 3 overheating: over_temperature stops that port
sim hazard ebike-1 port_overheat 3 >/dev/null
check "port overheat raises port3.over_temperature" \
    wait_until 30 has_event "$WORK/mqtt.txt" ebike-1 port3.over_temperature raised
event=$(events "$WORK/mqtt.txt" ebike-1 port3.over_temperature raised | head -1)
check "over_temperature stopped port 3" json_is '.action == "stop_port" and .action_ok and .point == "port3.temperature" and .unit == "°C"' <<<"$event"
sim calm ebike-1 >/dev/null
check "calm clears port3.over_temperature" \
    wait_until 30 has_event "$WORK/mqtt.txt" ebike-1 port3.over_temperature cleared

# --- a silent device goes offline and comes back
sim fault gas-3 silent >/dev/null
check "silent device raises offline" wait_until 15 has_event "$WORK/mqtt.txt" gas-3 offline raised
offline_state() { grep "^$TOPIC_PREFIX/device/gas-3/state " "$WORK/mqtt.txt" | tail -1 | cut -d' ' -f2- | json_is '.online == false and (.alarms | index("offline"))'; }
check "device state says offline, retained" offline_state
sim heal gas-3 >/dev/null
check "answering again clears offline" wait_until 30 has_event "$WORK/mqtt.txt" gas-3 offline cleared

# --- sequence numbers rise by one per event, with no gaps or repeats
seqs=$(grep "^$TOPIC_PREFIX/alarm/" "$WORK/mqtt.txt" | cut -d' ' -f2- | jq -r .seq)
first=$(head -1 <<<"$seqs")
expected=$(seq "$first" $((first + $(wc -l <<<"$seqs") - 1)))
check "seq rises by one per event" test "$seqs" = "$expected"

health_ok() { grep "^$TOPIC_PREFIX/health " "$WORK/mqtt.txt" | tail -1 | cut -d' ' -f2- | json_is '.buses | length == 2'; }
check "health reports both buses" wait_until 5 health_ok

kill -TERM "$DAEMON_PID"
check "SIGTERM stops the daemon with exit 0" wait "$DAEMON_PID"
finish
