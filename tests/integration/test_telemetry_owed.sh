#!/bin/bash
# Telemetry in a burst the uplink cannot take at once: a reading its full
# queue turns away is owed, not lost. The uplink is held off for 14 s
# (SAFETYGW_TEST_STALL_UPLINK_MS) while 100 gas alarms send telemetry at every
# poll (one a second each): more readings than the queue's 1,024 items. After the stall every
# device's telemetry arrives, and nothing of a device was counted as dropped.
. "$(dirname "$0")/lib.sh"

start_broker
mkdir -p "$WORK/profiles"
cp "$PROFILES"/*.yaml "$WORK/profiles/"
sed -i 's/^telemetry: .*/telemetry: { period_ms: 1000 }/' "$WORK/profiles/gas-alarm.yaml"
PROFILES="$WORK/profiles"
write_site "$WORK/site.yaml" 100 1000
# Health is the one volatile message (a full queue drops it): none in this test.
sed -i -e 's/health_interval_ms: 2000/health_interval_ms: 3600000/' \
    -e 's/baud: 9600/baud: 38400/' "$WORK/site.yaml"
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/telemetry/#"
export SAFETYGW_TEST_STALL_UPLINK_MS=14000
start_daemon "$WORK/site.yaml"
unset SAFETYGW_TEST_STALL_UPLINK_MS

logged() { grep -q "$1" "$WORK/daemon.log"; }
status_json() { "$CLI" status --json --socket "$WORK/control.sock"; }
polls() { status_json | jq '[.buses[].polls_ok] | add'; }
check "the uplink is held off" wait_until 20 logged "uplink: stalling on purpose for 14000 ms"
polls_at_stall=$(polls)
check "until the stall ends" wait_until 30 logged "uplink: stalled on purpose until now"
polls_in_stall=$(($(polls) - polls_at_stall))
echo "polls during the stall: $polls_in_stall, each with a telemetry reading"
check "the readings outnumber the queue's 1,024 items" test "$polls_in_stall" -gt 1100

every_gas_alarm_sent() {
    local i
    for i in $(seq 1 100); do
        grep -q "^$TOPIC_PREFIX/telemetry/gas-$i " "$WORK/mqtt.txt" || return 1
    done
}
check "every device's telemetry arrives" wait_until 20 every_gas_alarm_sent
check "nothing was dropped: the owed readings went out once there was room" \
    json_is '.mqtt.dropped == 0' <<<"$(status_json)"
finish
