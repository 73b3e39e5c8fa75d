#!/bin/bash
# State files that cannot lie: the real daemon against a hostile state_dir.
# A seq file that does not parse, with no good previous generation, refuses the
# start with a message naming the file; a good one resumes after its number; a
# state dir that cannot be written refuses the start (root: a read-only tmpfs);
# a queued message that cannot be read back is moved aside and counted as lost.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 1 500
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/#"

# refused_start: the daemon, started on site.yaml, exits with 1 by itself.
refused_start() {
    "$DAEMON" -c "$WORK/site.yaml" >"$WORK/refused.log" 2>&1 &
    local pid=$!
    wait_until 20 bash -c "! kill -0 $pid 2>/dev/null" || { kill "$pid"; return 1; }
    wait "$pid"
    [ $? -eq 1 ]
}

mkdir -p "$WORK/state"
for garbage in "abc" "-5" "99999999999999999999999" "138xyz" ""; do
    printf '%s' "$garbage" >"$WORK/state/seq"
    check "seq \"$garbage\" refuses the start" refused_start
    check "naming the file and what is wrong" grep -q "state/seq" "$WORK/refused.log"
done

printf '138\n' >"$WORK/state/seq"
rm -f "$WORK/state/seq.prev"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected
sim hazard lift-1 trapped >/dev/null
check "an alarm is raised" wait_until 15 has_event "$WORK/mqtt.txt" lift-1 trapped raised
check "its seq follows the saved one" \
    json_is '.seq == 139' <<<"$(events "$WORK/mqtt.txt" lift-1 trapped raised | head -n 1)"
sim calm lift-1 >/dev/null
check "and its clear" wait_until 15 has_event "$WORK/mqtt.txt" lift-1 trapped cleared
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true

# A queued message cut in half (the broker was away, then the disk lost it).
queue_dir=$(find "$WORK/state/mqtt" -mindepth 1 -maxdepth 1 -type d | head -n 1)
printf 'half a message' >"$queue_dir/s-999.msg"
start_daemon "$WORK/site.yaml"
check "the daemon starts with a broken queue file" wait_until 10 \
    bash -c "[ \$(grep -c 'mqtt: connected' '$WORK/daemon.log') -ge 2 ]"
check "the broken file is moved aside" wait_until 10 bash -c "! test -e '$queue_dir/s-999.msg'"
check "and logged" grep -q "s-999" "$WORK/daemon.log"
lost_counted() { grep "^$TOPIC_PREFIX/health " "$WORK/mqtt.txt" | tail -n 1 | cut -d' ' -f2- | json_is '.lost >= 1'; }
check "and counted as lost in P/health" wait_until 10 lost_counted
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true

if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$WORK/ro"
    mount -t tmpfs -o size=1m tmpfs "$WORK/ro"
    trap 'umount "$WORK/ro" 2>/dev/null || true; cleanup' EXIT
    cp -a "$WORK/state/." "$WORK/ro/"
    mount -o remount,ro "$WORK/ro"
    sed -i "s|state_dir: $WORK/state|state_dir: $WORK/ro|" "$WORK/site.yaml"
    check "a state dir that cannot be written refuses the start" refused_start
    cat "$WORK/refused.log"
    check "saying so" grep -qi "read-only" "$WORK/refused.log"
else
    echo "skipped: a read-only state dir needs root (mount)"
fi
finish
