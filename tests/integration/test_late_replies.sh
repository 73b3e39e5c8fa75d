#!/bin/bash
# A device that answers after the bus's timeout_ms (the simulator's `slow`
# fault: every reply 2 x timeout_ms late, out of turn). On the RS-485 line the
# late reply is drained before the next request; behind the Modbus TCP
# converter it is told apart by its transaction id and dropped. Either way it
# is counted on the device it came from and never taken for the answer to a
# later poll: the slow device goes offline, the log line says "late replies",
# and its neighbours on the same bus keep answering every poll.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 4 300
start_sim "$WORK/site.yaml"
start_daemon "$WORK/site.yaml"

device_json() { "$CLI" device "$1" --socket "$WORK/control.sock" --json; }
online() { grep -q "device $1 is online" "$WORK/daemon.log"; }
check "rtu devices online" wait_until 20 online gas-4
check "tcp devices online" wait_until 20 online ebike-1

sim fault gas-2 slow >/dev/null
sim fault lift-1 slow >/dev/null
neighbour_failed() { device_json "$1" | jq .device.stats.polls_failed; }
rtu_failed_before=$(neighbour_failed gas-3)
tcp_failed_before=$(neighbour_failed ebike-1)

for device in gas-2 lift-1; do
    ok_before=$(device_json $device | jq .device.stats.polls_ok)
    offline_logged() { grep -q "device $device is offline" "$WORK/daemon.log"; }
    check "$device (slow) goes offline" wait_until 30 offline_logged
    grep "device $device is offline" "$WORK/daemon.log"
    check "$device: the offline line names late replies" \
        grep -q "device $device is offline.*late replies" "$WORK/daemon.log"
    late_counted() { [ "$(device_json $device | jq .device.stats.late_replies)" -ge 2 ]; }
    check "$device: its late replies are counted on it" wait_until 30 late_counted
    ok_after=$(device_json $device | jq .device.stats.polls_ok)
    check "$device: no late reply was taken for an answer ($ok_before -> $ok_after good polls)" \
        test "$ok_after" -le $((ok_before + 1))
    device_json $device | jq -c '.device.stats | {timeouts, late_replies, failing}'
done
check "rtu neighbour gas-3 failed no poll meanwhile" test "$(neighbour_failed gas-3)" -eq "$rtu_failed_before"
check "tcp neighbour ebike-1 failed no poll meanwhile" test "$(neighbour_failed ebike-1)" -eq "$tcp_failed_before"

sim heal gas-2 >/dev/null
sim heal lift-1 >/dev/null
back_online() { [ "$(device_json "$1" | jq -r .device.link)" = online ]; }
check "gas-2 answers again once healed" wait_until 90 back_online gas-2
check "lift-1 answers again once healed" wait_until 90 back_online lift-1
finish
