#!/bin/bash
# A bus with 10 % of its devices dead still delivers the healthy devices'
# alarms, and the dead devices stay offline: they are backed off and
# interleaved, never allowed to eat the cycle. The simulator keeps real
# 9600-baud wire timing so the bus has a realistic cycle.
#
# How soon the alarms arrive (within two poll intervals) is a figure, not a
# check here: bench/run --only dead-latency measures it (bench/README.md).
. "$(dirname "$0")/lib.sh"

POLL_MS=1000
start_broker
write_site "$WORK/site.yaml" 20 "$POLL_MS"
# Long timeouts make dead devices expensive: without back-off, two dead devices
# would add 1.6 s to every cycle.
sed -i 's/timeout_ms: 200/timeout_ms: 800/' "$WORK/site.yaml"
start_sim "$WORK/site.yaml"
sim fault gas-7 silent >/dev/null
sim fault gas-15 silent >/dev/null
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/#"
start_daemon "$WORK/site.yaml"

# Offline is when their back-off starts: the hazards below come while it runs.
check "dead devices go offline" wait_until 30 has_event "$WORK/mqtt.txt" gas-7 offline raised
check "dead devices go offline (both)" wait_until 30 has_event "$WORK/mqtt.txt" gas-15 offline raised

for device in gas-2 gas-6 gas-11 gas-16 gas-20; do
    sim set "$device" gas_lel 30 >/dev/null
done
for device in gas-2 gas-6 gas-11 gas-16 gas-20; do
    check "gas_high arrives from healthy device $device" \
        wait_until 30 has_event "$WORK/mqtt.txt" "$device" gas_high raised
done
# Never cleared on MQTT, and offline in the daemon's own view now.
still_offline() {
    ! has_event "$WORK/mqtt.txt" "$1" offline cleared &&
        "$CLI" --socket "$WORK/control.sock" device "$1" --json | json_is '.device.link == "offline"'
}
check "dead devices stayed offline" still_offline gas-7
check "dead devices stayed offline (both)" still_offline gas-15
finish
