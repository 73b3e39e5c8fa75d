#!/bin/bash
# The daemon keeps the RS-485 inter-frame silence itself: on a saturated
# 9600-baud line (ten gas alarms polled as fast as the wire goes) against the
# simulator's strict framing, no request is glued to the frame before it
# (`merged` stays 0) and every poll is answered. A late reply (the `slow`
# fault) is drained before the next request, counted on the device it came
# from, and never taken for a later poll's answer: the slow device goes
# offline and the log says why.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 10 10
start_sim "$WORK/site.yaml"
start_daemon "$WORK/site.yaml"

counter() { sim counters bldg-1 | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
served_at_least() { [ "$(counter served)" -ge "$1" ]; }
check "the line is polled back to back (300 polls)" wait_until 60 served_at_least 300
check "no request merged into the frame before it" test "$(counter merged)" -eq 0
check "no request lost" test "$(counter ignored)" -eq 0
failed=$("$CLI" status --socket "$WORK/control.sock" --json |
    jq '.buses[] | select(.name == "bldg-1") | .polls_failed')
check "no poll failed on the line (polls_failed=$failed)" test "$failed" -eq 0

# A device that answers after the bus's timeout_ms (200 ms): its replies are late.
sim fault gas-4 slow >/dev/null
offline_logged() { grep -q "device gas-4 is offline" "$WORK/daemon.log"; }
check "the slow device goes offline" wait_until 30 offline_logged
grep "device gas-4 is offline" "$WORK/daemon.log"
check "the offline line names late replies" grep -q "device gas-4 is offline.*late replies" \
    "$WORK/daemon.log"
ok_before=$("$CLI" device gas-4 --socket "$WORK/control.sock" --json | jq .device.stats.polls_ok)
late_replies() {
    [ "$("$CLI" device gas-4 --socket "$WORK/control.sock" --json |
        jq .device.stats.late_replies)" -ge 2 ]
}
check "its late replies are counted on it" wait_until 30 late_replies
ok_after=$("$CLI" device gas-4 --socket "$WORK/control.sock" --json | jq .device.stats.polls_ok)
check "no late reply was taken for an answer ($ok_before -> $ok_after good polls)" \
    test "$ok_after" -eq "$ok_before"
neighbours_fine() {
    "$CLI" devices --socket "$WORK/control.sock" --json |
        jq -e '[.devices[] | select(.id != "gas-4" and .id != "lift-1" and .id != "ebike-1")
                | select(.link != "online")] | length == 0' >/dev/null
}
check "its neighbours stay online" neighbours_fine
finish
