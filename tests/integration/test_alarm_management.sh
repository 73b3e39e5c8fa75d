#!/bin/bash
# Alarms an operator can act on: a value flapping across its threshold is
# shelved as chattering after its third raise (one "shelved" event, then
# silence) while its interlock keeps acting; a charging port heating at
# 30 °C/min raises temperature_rising within seconds, one drifting at 3 °C/min
# does not.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 2 500
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/alarm/#"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected
online() { grep -q "device $1 is online" "$WORK/daemon.log"; }
check "the devices answer" wait_until 10 online ebike-1
count_events() { events "$WORK/mqtt.txt" "$1" "$2" "$3" | wc -l; }

# The ramps drive the simulator once a second in the background: 30 °C/min on
# port 3, 3 °C/min on port 5, both from 25 °C. The temperature follows the
# clock, so a late step on a busy machine does not slow the ramp down.
ramp() { # ramp PORT HUNDREDTHS_PER_SECOND SECONDS
    local started=$SECONDS hundredths
    while [ $((SECONDS - started)) -lt "$3" ]; do
        hundredths=$((2500 + $2 * (SECONDS - started)))
        sim set ebike-1 "port$1.temperature" "$(printf '%d.%02d' $((hundredths / 100)) $((hundredths % 100)))" >/dev/null
        sleep 1 # the pace of the ramp's steps, not a wait for anything
    done
}
ramp 3 50 40 &
RAMP3_PID=$!
PIDS="$PIDS $RAMP3_PID"
ramp 5 5 40 &
PIDS="$PIDS $!"

# Meanwhile gas-1 flaps between 30 and 0 %LEL every second for 30 s.
valve_opened=0
for second in $(seq 1 30); do
    if [ $((second % 2)) -eq 1 ]; then
        sim set gas-1 gas_lel 30 >/dev/null
    else
        sim set gas-1 gas_lel 0 >/dev/null
        # The crew reopens the valve each time; the interlock must close it again.
        sim set gas-1 status.valve_closed 0 >/dev/null && valve_opened=$((valve_opened + 1))
    fi
    sleep 1 # the pace of the flapping, not a wait for anything
done

# How soon is a unit-test matter (tests/rules/test_rules.c: within 15 s at polls of 1-5 s);
# here: it raises while the ramp is still going, before 45 °C (40 s at 30 °C/min).
rise_or_ramp_over() {
    has_event "$WORK/mqtt.txt" ebike-1 port3.temperature_rising raised || ! running_child "$RAMP3_PID"
}
wait_until 60 rise_or_ramp_over || true
check "a port heating at 30 °C/min raises temperature_rising" \
    has_event "$WORK/mqtt.txt" ebike-1 port3.temperature_rising raised
first_rise=$(events "$WORK/mqtt.txt" ebike-1 port3.temperature_rising raised | head -n 1)
echo "rate event: $first_rise"
check "a port drifting at 3 °C/min does not" \
    test "$(count_events ebike-1 port5.temperature_rising raised)" -eq 0

check "the flapping gas alarm is shelved once" \
    wait_until 10 has_event "$WORK/mqtt.txt" gas-1 gas_high shelved
shelved=$(events "$WORK/mqtt.txt" gas-1 gas_high shelved)
check "exactly one shelved event, saying why and until when" \
    json_is '.reason == "chattering" and (.until | test("T"))' <<<"$shelved"
check "at most 3 raises went out in a minute of flapping" \
    test "$(count_events gas-1 gas_high raised)" -le 3
check "the interlock kept acting while shelved" \
    test "$(grep -c "action close_valve on gas-1 done" "$WORK/daemon.log")" -gt 3
check "and the log says why the alarm went quiet" grep -q "alarm gas_high on gas-1 chatters" "$WORK/daemon.log"
echo "the valve was reopened $valve_opened times"
finish
