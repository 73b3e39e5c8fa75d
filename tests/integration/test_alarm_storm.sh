#!/bin/bash
# An alarm storm while the uplink is held off (as a slow disk's fsync or a
# machine that keeps it off the CPU would): 60 gas leaks at once. With
# SAFETYGW_TEST_KEPT_WAITING_MAX=20 the buses start no poll once 20 alarm
# events wait (posting them never waits: tests/daemon/test_uplink_queue.c);
# once the uplink runs again every leak is raised, every valve closed, and
# the events are numbered without a gap.
. "$(dirname "$0")/lib.sh"

LEAKS=60
start_broker
write_site "$WORK/site.yaml" "$LEAKS" 1000
sed -i -e 's/baud: 9600/baud: 38400/' "$WORK/site.yaml"
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/alarm/#"

export SAFETYGW_TEST_STALL_UPLINK_MS=16000 SAFETYGW_TEST_KEPT_WAITING_MAX=20
start_daemon "$WORK/site.yaml"
unset SAFETYGW_TEST_STALL_UPLINK_MS SAFETYGW_TEST_KEPT_WAITING_MAX

logged() { grep -q "$1" "$WORK/daemon.log"; }
not_logged() { ! logged "$1"; }
status_json() { "$CLI" status --json --socket "$WORK/control.sock"; }
polls() { status_json | jq '[.buses[].polls_ok] | add'; }
health_reports() { grep -c "health: {" "$WORK/daemon.log" || true; }

check "the uplink is held off" wait_until 20 logged "uplink: stalling on purpose for 16000 ms"
for i in $(seq 1 "$LEAKS"); do sim hazard "gas-$i" gas_leak >/dev/null; done
check "20 events waiting stop the polls" wait_until 10 logged "no bus starts a poll"
polls_at_pause=$(polls)
reports_at_pause=$(health_reports)
# The daemon's own clock is the yardstick (a busy machine delays both alike):
# a health report every 2 s, so 2 more span at least 2 s, in which 60 devices
# polled every second would have been polled 120 times.
two_more_reports() { [ "$(health_reports)" -ge $((reports_at_pause + 2)) ]; }
check "the main loop goes on meanwhile" wait_until 10 two_more_reports
polls_paused=$(($(polls) - polls_at_pause))
check "still held off: the pause is what was measured" not_logged "stalled on purpose until now"
echo "polls while paused: $polls_paused"
# A poll under way when the pause began still ends: at most one a bus.
check "no poll starts while the events wait" test "$polls_paused" -le 2

check "the uplink runs again" wait_until 30 logged "stalled on purpose until now"
every_leak_raised() {
    local i
    for i in $(seq 1 "$LEAKS"); do has_event "$WORK/mqtt.txt" "gas-$i" gas_high raised || return 1; done
}
check "every gas leak is raised" wait_until 30 every_leak_raised
check "the storm's events all went on" logged "that waited are all handed to MQTT"
every_valve_closed() {
    local i
    for i in $(seq 1 "$LEAKS"); do
        [ "$(sim get "gas-$i" status.valve_closed)" = "ok 1" ] || return 1
    done
}
check "every valve is closed (the interlocks ran)" wait_until 10 every_valve_closed
seqs=$(alarm_seqs "$WORK/mqtt.txt" | sort -n)
count=$(wc -l <<<"$seqs")
first=$(head -1 <<<"$seqs")
last=$(tail -1 <<<"$seqs")
echo "alarm events: $count, seq $first..$last"
check "numbered without a gap or a repeat" test "$((last - first + 1))" -eq "$count" -a \
    "$(uniq <<<"$seqs" | wc -l)" -eq "$count"
finish
