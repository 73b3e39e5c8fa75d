#!/bin/bash
# systemd's watchdog is pinged only while every bus thread shows life, and
# SIGTERM leaves what could not be sent in the persisted queue for the next
# start. NOTIFY_SOCKET is a datagram socket of the test's own, as systemd would
# give.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 2
start_sim "$WORK/site.yaml" --no-wire-delay

# watch_start [VAR=VALUE...]: runs the daemon under a fake systemd (a receiver
# keeping every notification in $WORK/notify.raw); watch_stop stops both and
# leaves the notifications sent before the stop in $WORK/notify.txt, one a line.
watch_start() {
    rm -f "$WORK/notify.sock" "$WORK/notify.raw"
    socat -u UNIX-RECV:"$WORK/notify.sock" OPEN:"$WORK/notify.raw",creat,append &
    RECEIVER_PID=$!
    wait_until 5 test -S "$WORK/notify.sock"
    env NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 "$@" \
        "$DAEMON" -c "$WORK/site.yaml" --log-level debug >>"$WORK/daemon.log" 2>&1 &
    WATCHED_PID=$!
}
watch_stop() {
    cp "$WORK/notify.raw" "$WORK/notify.before-stop"
    kill -TERM "$WATCHED_PID"; wait "$WATCHED_PID" || true
    kill "$RECEIVER_PID"; wait "$RECEIVER_PID" 2>/dev/null || true
    sed 's/\(READY=1\|WATCHDOG=1\|STOPPING=1\)/&\n/g' "$WORK/notify.before-stop" >"$WORK/notify.txt"
}
pings() { grep -c "WATCHDOG=1" "$WORK/notify.txt" || true; }
pings_so_far() { grep -o "WATCHDOG=1" "$WORK/notify.raw" 2>/dev/null | wc -l; }
ready() { grep -q "READY=1" "$WORK/notify.raw" 2>/dev/null; }

watch_start
check "READY=1 once the buses are up" wait_until 15 ready
# WATCHDOG_USEC is 1 s: systemd kills a daemon pinging less often than that. The
# daemon's own clock is the yardstick, not the test's (a busy machine delays both
# alike): its health report comes every 2 s (health_interval_ms), so 3 more
# reports span at least 4 s of it, in which a ping a second is 4 pings or more.
health_reports() { grep -c "health: {" "$WORK/daemon.log" || true; }
reports_at_start=$(health_reports)
pings_at_start=$(pings_so_far)
three_more_reports() { [ "$(health_reports)" -ge $((reports_at_start + 3)) ]; }
check "healthy buses: the main loop reports" wait_until 30 three_more_reports
pings_healthy=$(($(pings_so_far) - pings_at_start))
echo "pings over 3 health reports with healthy buses: $pings_healthy (one a 0.5 s is asked)"
check "at least one a second of the daemon's clock, as the watchdog asks" test "$pings_healthy" -ge 4
watch_stop

watch_start SAFETYGW_TEST_STALL_BUS=conv-1
stalling() { grep -q "bus conv-1: stalling on purpose" "$WORK/daemon.log"; }
check "READY=1 with bus conv-1 stuck" wait_until 15 ready
check "bus conv-1 is stuck" wait_until 15 stalling
# Pings that stop are seen over time: the main loop's own, which logs a health
# report every 2 s (health_interval_ms). 3 more reports span 4 s or more, 8 times
# the ping interval the healthy run kept.
reports_when_stuck=$(health_reports)
three_more_reports() { [ "$(health_reports)" -ge $((reports_when_stuck + 3)) ]; }
check "the main loop goes on with bus conv-1 stuck" wait_until 30 three_more_reports
watch_stop
echo "pings with bus conv-1 stuck: $(pings)"
check "a stuck bus thread stops the pings" test "$(pings)" -le 3

# SIGTERM while the broker is down: the queued event survives on disk.
subscribe_durable "$WORK/mqtt.txt" "$TOPIC_PREFIX/alarm/#"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected
stop_broker
sim hazard lift-1 trapped >/dev/null
raised() { grep -q "alarm trapped raised" "$WORK/daemon.log"; }
check "trapped raised with the broker down" wait_until 10 raised
# The unit gives a stop TimeoutStopSec=10 before SIGKILL: the wait's deadline.
kill -TERM "$DAEMON_PID"
check "SIGTERM: the daemon exits before systemd would kill it" wait_until 10 exited "$DAEMON_PID"
check "with status 0, the broker down" wait "$DAEMON_PID"
check "saying what stays queued" grep -q "messages stay queued in" "$WORK/daemon.log"
start_broker "$BROKER_PORT"
start_daemon "$WORK/site.yaml"
check "after the next start the queued event arrives" \
    wait_until 30 has_event "$WORK/mqtt.txt" lift-1 trapped raised
finish
