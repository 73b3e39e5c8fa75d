#!/bin/bash
# A full disk under state_dir must not cost an alarm: the daemon logs that it
# cannot save, keeps polling, and delivers the events live while the broker is
# reachable. (state_dir on a tiny tmpfs that is then filled; needs root.)
. "$(dirname "$0")/lib.sh"

# 77: ctest's SKIP_RETURN_CODE for this test (tests/integration/CMakeLists.txt), so
# a run without root shows as skipped, not as passed with nothing checked.
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: mounting a small tmpfs needs root"
    exit 77
fi
start_broker
write_site "$WORK/site.yaml" 2
mkdir -p "$WORK/state"
mount -t tmpfs -o size=64k tmpfs "$WORK/state"
unmount_state() { umount "$WORK/state" 2>/dev/null || true; }
trap 'unmount_state; cleanup' EXIT
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/alarm/#"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected
# A message the daemon stored before the disk filled up is deleted once the broker
# has it, which frees its room again: the filler is topped up until none is left.
full() {
    dd if=/dev/zero of="$WORK/state/filler" bs=4k oflag=append conv=notrunc 2>/dev/null || true
    ! find "$WORK/state/mqtt" -name '*.msg' | grep -q . &&
        [ "$(df --output=avail "$WORK/state" | tail -1)" -eq 0 ]
}
check "the disk under state_dir is full" wait_until 10 full

sim hazard lift-1 trapped >/dev/null
check "an alarm still arrives" wait_until 10 has_event "$WORK/mqtt.txt" lift-1 trapped raised
check "the failure to save is logged with its reason" \
    grep -q "cannot record [0-9]* in .*No space left on device" "$WORK/daemon.log"
sim calm lift-1 >/dev/null
check "and its clear" wait_until 10 has_event "$WORK/mqtt.txt" lift-1 trapped cleared
check "the daemon keeps running" kill -0 "$DAEMON_PID"
kill -TERM "$DAEMON_PID"
check "and stops cleanly" wait "$DAEMON_PID"
finish
