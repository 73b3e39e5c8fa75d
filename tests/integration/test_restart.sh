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
sleep 1

stop_broker
sim hazard lift-1 trapped >/dev/null
raised() { grep -q "alarm trapped raised .* on lift-1" "$WORK/daemon.log"; }
check "trapped raised while the broker is down" wait_until 10 raised
sleep 2 # the active-alarm store is written within a second of a change
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
check "the active alarm was saved" grep -q '"alarm":"trapped"' "$WORK/state/active-alarms.json"

sim calm lift-1 >/dev/null # the passenger is freed while the gateway is down
start_daemon "$WORK/site.yaml"
cleared() { grep -q "alarm trapped cleared .* on lift-1" "$WORK/daemon.log"; }
check "after the restart the ended alarm is cleared" wait_until 15 cleared
check "and not raised again" test "$(grep -c "alarm trapped raised" "$WORK/daemon.log")" -eq 1

start_broker "$BROKER_PORT"
both() { has_event "$WORK/mqtt.txt" lift-1 trapped raised && has_event "$WORK/mqtt.txt" lift-1 trapped cleared; }
check "the raise queued before the kill and the clear after it both arrive" wait_until 40 both
sleep 2
check "trapped raised arrives exactly once" test "$(events "$WORK/mqtt.txt" lift-1 trapped raised | wc -l)" -eq 1
seqs=$(alarm_seqs "$WORK/mqtt.txt")
check "seq keeps rising across the restart" test "$seqs" = "$(sort -n <<<"$seqs" | uniq)"
raised_seq=$(events "$WORK/mqtt.txt" lift-1 trapped raised | jq .seq)
cleared_event=$(events "$WORK/mqtt.txt" lift-1 trapped cleared)
check "the clear names when the alarm was raised" json_is ".seq > $raised_seq and .raised_at < .ts" <<<"$cleared_event"
finish
