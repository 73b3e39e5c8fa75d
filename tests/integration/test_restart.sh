#!/bin/bash
# Restarts keep every alarm: the daemon is SIGKILLed while the broker is down
# with an event queued; the hazard ends while the daemon is down. After both
# come back: the queued raise arrives, the clear is published, and the alarm
# is not raised a second time. seq keeps rising across the restart.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 2
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe_durable "$WORK/mqtt.txt" "$TOPIC_PREFIX/alarm/#"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected
# Before the outage: the broker holds the daemon's retained "online" status (its
# connection's first messages are through) and lift-1 has answered, calm, so
# the hazard below is a change the daemon sees.
status_online() {
    mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t "$TOPIC_PREFIX/status" -C 1 -W 2 |
        json_is '.state == "online"'
}
check "the broker holds the daemon's online status" wait_until 15 status_online
check "lift-1 answers" wait_until 15 grep -q "device lift-1 is online" "$WORK/daemon.log"

stop_broker
sim hazard lift-1 trapped >/dev/null
raised() { grep -q "alarm trapped raised .* on lift-1" "$WORK/daemon.log"; }
check "trapped raised while the broker is down" wait_until 10 raised
# state_dir/active-alarms.json is replaced whole within a second of a change.
trapped_saved() { json_is '.alarms[] | select(.device == "lift-1" and .alarm == "trapped")' \
                      <"$WORK/state/active-alarms.json"; }
check "the active alarm is saved" wait_until 10 trapped_saved
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
check "and stays saved after a SIGKILL" trapped_saved

sim calm lift-1 >/dev/null # the passenger is freed while the gateway is down
start_daemon "$WORK/site.yaml"
cleared() { grep -q "alarm trapped cleared .* on lift-1" "$WORK/daemon.log"; }
check "after the restart the ended alarm is cleared" wait_until 15 cleared
check "and not raised again" test "$(grep -c "alarm trapped raised" "$WORK/daemon.log")" -eq 1

start_broker "$BROKER_PORT"
both() { has_event "$WORK/mqtt.txt" lift-1 trapped raised && has_event "$WORK/mqtt.txt" lift-1 trapped cleared; }
check "the raise queued before the kill and the clear after it both arrive" wait_until 40 both
# A duplicate would come before an event made after both: service mode on
# lift-1 (one warning) is the marker.
sim set lift-1 service_mode 1 >/dev/null
check "an event made after them arrives" wait_until 20 has_event "$WORK/mqtt.txt" lift-1 service_mode raised
check "trapped raised arrives exactly once" test "$(events "$WORK/mqtt.txt" lift-1 trapped raised | wc -l)" -eq 1
seqs=$(alarm_seqs "$WORK/mqtt.txt")
check "seq keeps rising across the restart" test "$seqs" = "$(sort -n <<<"$seqs" | uniq)"
raised_seq=$(events "$WORK/mqtt.txt" lift-1 trapped raised | jq .seq)
cleared_event=$(events "$WORK/mqtt.txt" lift-1 trapped cleared)
check "the clear names when the alarm was raised" json_is ".seq > $raised_seq and .raised_at < .ts" <<<"$cleared_event"
finish
