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
pinged_5_times() { [ "$(pings_so_far)" -ge 5 ]; }
started=$SECONDS
check "healthy buses: the pings keep coming" wait_until 15 pinged_5_times
echo "5 pings in about $((SECONDS - started)) s with healthy buses (one a 0.5 s is asked)"
# WATCHDOG_USEC is 1 s: systemd kills a daemon pinging less often than that.
check "at least one a second, as the watchdog asks" test $((SECONDS - started)) -le 5
watch_stop

watch_start SAFETYGW_TEST_STALL_BUS=conv-1
stalling() { grep -q "bus conv-1: stalling on purpose" "$WORK/daemon.log"; }
check "READY=1 with bus conv-1 stuck" wait_until 15 ready
check "bus conv-1 is stuck" wait_until 15 stalling
# Pings that stop are seen over time: the main loop's own, which logs a health
# report every 2 s (health_interval_ms). 3 more reports span 4 s or more, 8 times
# the ping interval the healthy run kept.
health_reports() { grep -c "health: {" "$WORK/daemon.log" || true; }
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
started=$SECONDS
kill -TERM "$DAEMON_PID"
check "SIGTERM exits 0 with the broker down" wait "$DAEMON_PID"
check "within 5 s" test $((SECONDS - started)) -le 5
check "saying what stays queued" grep -q "messages stay queued in" "$WORK/daemon.log"
start_broker "$BROKER_PORT"
start_daemon "$WORK/site.yaml"
check "after the next start the queued event arrives" \
    wait_until 30 has_event "$WORK/mqtt.txt" lift-1 trapped raised
finish
