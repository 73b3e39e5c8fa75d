#!/bin/bash
# Store-and-forward: the broker is down for 30 s while hazards are raised and
# cleared; when it returns every event arrives exactly once, in seq order.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 2
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe_durable "$WORK/mqtt.txt" "$TOPIC_PREFIX/alarm/#"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected
sleep 2

stop_broker
outage_started=$SECONDS
sim hazard lift-1 trapped >/dev/null
sim hazard gas-1 gas_leak >/dev/null
raised() { grep -q "alarm gas_high raised .* on gas-1" "$WORK/daemon.log"; }
check "gas_high raised during the outage" wait_until 25 raised
sim calm lift-1 >/dev/null
sim calm gas-1 >/dev/null
# Every raise cleared: a slow (sanitizer) daemon logs the last clears well after these two.
every_raise_cleared() {
    [ "$(grep -c "alarm [a-z0-9_.]* raised" "$WORK/daemon.log")" -eq \
      "$(grep -c "alarm [a-z0-9_.]* cleared" "$WORK/daemon.log")" ]
}
settled() { grep -q "alarm gas_low cleared .* on gas-1" "$WORK/daemon.log" &&
            grep -q "alarm trapped cleared .* on lift-1" "$WORK/daemon.log" && every_raise_cleared; }
check "hazards cleared during the outage" wait_until 25 settled
expected=$(logged_events)
echo "events during the outage: $expected"
sleep $((30 - (SECONDS - outage_started)))

start_broker "$BROKER_PORT"
all_arrived() { [ "$(alarm_seqs "$WORK/mqtt.txt" | wc -l)" -ge "$expected" ]; }
check "every event arrives after the broker returns" wait_until 60 all_arrived
sleep 2
seqs=$(alarm_seqs "$WORK/mqtt.txt")
check "each exactly once" test "$(wc -l <<<"$seqs")" -eq "$expected"
check "in seq order, without gaps" test "$seqs" = "$(seq 1 "$expected")"
check "gas_high raised arrived" has_event "$WORK/mqtt.txt" gas-1 gas_high raised
check "gas_high cleared arrived" has_event "$WORK/mqtt.txt" gas-1 gas_high cleared
finish
