#!/bin/bash
# A bus with 10 % of its devices dead still delivers the healthy devices'
# alarms within two poll intervals: dead devices are backed off and
# interleaved, never allowed to eat the cycle. The simulator keeps real
# 9600-baud wire timing so the bus has a realistic cycle.
. "$(dirname "$0")/lib.sh"

POLL_MS=1000
start_broker
write_site "$WORK/site.yaml" 20 "$POLL_MS"
# Long timeouts make dead devices expensive: without back-off, two dead devices
# would add 1.6 s to every cycle and push alarms past two poll intervals.
sed -i 's/timeout_ms: 200/timeout_ms: 800/' "$WORK/site.yaml"
start_sim "$WORK/site.yaml"
sim fault gas-7 silent >/dev/null
sim fault gas-15 silent >/dev/null
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/#"
start_daemon "$WORK/site.yaml"

check "dead devices go offline" wait_until 20 has_event "$WORK/mqtt.txt" gas-15 offline raised
sleep 3 # let back-off grow past the first doublings

now_ms() { date +%s%3N; }
worst_ms=0
for device in gas-2 gas-6 gas-11 gas-16 gas-20; do
    before=$(now_ms)
    sim set "$device" gas_lel 30 >/dev/null
    if wait_until 10 has_event "$WORK/mqtt.txt" "$device" gas_high raised; then
        latency=$(($(now_ms) - before))
        echo "alarm from $device after $latency ms"
        [ "$latency" -gt "$worst_ms" ] && worst_ms=$latency
    else
        fail "no gas_high from healthy device $device"
    fi
done
echo "worst latency $worst_ms ms (bound: two poll intervals, $((2 * POLL_MS)) ms)"
check "healthy devices' alarms arrive within two poll intervals" test "$worst_ms" -le $((2 * POLL_MS))
still_offline() { ! has_event "$WORK/mqtt.txt" "$1" offline cleared; }
check "dead devices stayed offline" still_offline gas-7
check "dead devices stayed offline (both)" still_offline gas-15
finish
