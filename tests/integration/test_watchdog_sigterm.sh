#!/bin/bash
# systemd's watchdog is pinged only while every bus thread shows life, and
# SIGTERM leaves what could not be sent in the persisted queue for the next
# start. NOTIFY_SOCKET is a datagram socket of the test's own, as systemd would
# give.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 2
start_sim "$WORK/site.yaml" --no-wire-delay

# watch SECONDS [VAR=VALUE...]: runs the daemon under a fake systemd for SECONDS,
# leaving every notification it sent in $WORK/notify.txt, one per line.
watch() {
    local seconds=$1; shift
    rm -f "$WORK/notify.sock" "$WORK/notify.raw"
    socat -u UNIX-RECV:"$WORK/notify.sock" OPEN:"$WORK/notify.raw",creat,append &
    local receiver=$!
    wait_until 5 test -S "$WORK/notify.sock"
    env NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 "$@" \
        "$DAEMON" -c "$WORK/site.yaml" >>"$WORK/daemon.log" 2>&1 &
    local daemon=$!
    sleep "$seconds"
    cp "$WORK/notify.raw" "$WORK/notify.before-stop"
    kill -TERM "$daemon"; wait "$daemon" || true
    kill "$receiver"; wait "$receiver" 2>/dev/null || true
    sed 's/\(READY=1\|WATCHDOG=1\|STOPPING=1\)/&\n/g' "$WORK/notify.before-stop" >"$WORK/notify.txt"
}
pings() { grep -c "WATCHDOG=1" "$WORK/notify.txt" || true; }

watch 4
check "READY=1 once the buses are up" grep -q "READY=1" "$WORK/notify.txt"
echo "pings in 4 s with healthy buses: $(pings)"
check "healthy buses: pinged about every 0.5 s" test "$(pings)" -ge 5

watch 4 SAFETYGW_TEST_STALL_BUS=conv-1
echo "pings in 4 s with bus conv-1 stuck: $(pings)"
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
