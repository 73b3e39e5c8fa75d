#!/bin/bash
# A broker that stays connected but takes nothing (mosquitto stopped with
# SIGSTOP: the connection stays up, no PUBACK comes back) must not make the
# daemon heap up messages in Paho without end. Retained device states are
# not taken while STATES_WAITING_MAX messages wait in the uplink's queue and
# in Paho together (here 10: SAFETYGW_TEST_WAITING_MAX lowers both limits);
# they are owed, and their bus posts them once the broker has caught up. 40 gas alarms on one
# converter go offline at once (the simulator stopped) while the broker is
# stopped: 40 retained states, four times the limit. The start, with 42
# states for an empty broker, is held to the limit too.
. "$(dirname "$0")/lib.sh"

DEVICES=40
start_broker
write_site "$WORK/site.yaml" 0 500
# No RTU bus; health only at the start (a volatile message: one refused would count as dropped).
sed -i -e '/name: bldg-1, type: rtu/d' -e 's/health_interval_ms: 2000/health_interval_ms: 3600000/' \
    "$WORK/site.yaml"
for i in $(seq 1 "$DEVICES"); do
    echo "  - { id: gas-$i, profile: gas-alarm, bus: conv-1, address: $((10 + i)), poll_ms: 500 }" \
        >>"$WORK/site.yaml"
done
start_sim "$WORK/site.yaml"
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/device/#"
export SAFETYGW_TEST_WAITING_MAX=10
start_daemon "$WORK/site.yaml"
unset SAFETYGW_TEST_WAITING_MAX

status_json() { "$CLI" status --json --socket "$WORK/control.sock"; }
logged() { grep -q "$1" "$WORK/daemon.log"; }
last_state() { grep "^$TOPIC_PREFIX/device/$1/state " "$WORK/mqtt.txt" | tail -n 1 | cut -d' ' -f2-; }
every_state_says() {
    local i
    for i in $(seq 1 "$DEVICES"); do
        json_is ".online == $1" <<<"$(last_state "gas-$i")" || return 1
    done
}
check "every gas alarm's retained state says online" wait_until 30 every_state_says true

kill -STOP "$BROKER_PID"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
none_online() { json_is '.devices.online == 0' <<<"$(status_json)"; }
check "the daemon sees its devices offline" wait_until 30 none_online
check "and says that messages wait for the broker" \
    wait_until 10 logged "messages wait for the broker, which takes them slower than they come"
queued=$(status_json | jq '.mqtt.queued')
echo "messages in Paho's hands while the broker is stopped: $queued"
# The 10 and the converter's bus_down event, which is never turned away.
check "no more than the limit and the bus_down event wait in Paho" test "$queued" -le 11

kill -CONT "$BROKER_PID"
check "the daemon says the broker caught up" wait_until 30 logged "the broker caught up"
check "every gas alarm's retained state says offline" wait_until 60 every_state_says false
finish
