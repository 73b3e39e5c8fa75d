#!/bin/bash
# The daemon keeps the RS-485 inter-frame silence itself: on a saturated
# 9600-baud line (ten gas alarms polled as fast as the wire goes) against the
# simulator's strict framing, no request is glued to the frame before it
# (`merged` stays 0) and every poll is answered.
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
status=$("$CLI" status --socket "$WORK/control.sock" --json)
check "status: the planned load of the rtu bus (ten alarms every 10 ms: far over 100 %)" \
    json_is '(.buses[] | select(.name == "bldg-1") | .planned_load) > 10' <<<"$status"
check "status: no planned load for the tcp bus" \
    json_is '.buses[] | select(.name == "conv-1") | has("planned_load") | not' <<<"$status"

finish
