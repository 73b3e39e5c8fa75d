#!/bin/bash
# Operator commands over MQTT: declared actions are written on the bus and
# answered on P/cmd-result/<id>; malformed or undeclared ones get an error
# reply and change nothing, and the daemon keeps polling throughout.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 2
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/results.txt" "$TOPIC_PREFIX/cmd-result/#"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected

command() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$TOPIC_PREFIX/cmd/$1" -m "$2"; }
# result DEVICE ID: the reply to command ID for DEVICE.
result() {
    awk -v t="$TOPIC_PREFIX/cmd-result/$1" '$1 == t { $1 = ""; print substr($0, 2) }' "$WORK/results.txt" |
        jq -c --arg id "$2" 'select(.id == $id)'
}
answered() { [ -n "$(result "$1" "$2")" ]; }

# The daemon subscribes to P/cmd/+ once connected: until then a command is
# lost. A command for a device that does not exist changes nothing and is
# answered (refused), so it is sent again each second until one is answered.
commands_heard() {
    local probe
    for probe in $(seq 1 30); do # about 30 s
        command no-such-device "{\"id\":\"probe-$probe\",\"action\":\"close_valve\"}"
        wait_until 1 grep -q "^$TOPIC_PREFIX/cmd-result/no-such-device " "$WORK/results.txt" && return
    done
    return 1
}
check "the daemon answers commands" commands_heard

command gas-1 '{"id":"ok-1","action":"close_valve"}'
check "close_valve is answered" wait_until 10 answered gas-1 ok-1
check "close_valve succeeded" json_is '.ok == true' <<<"$(result gas-1 ok-1)"
valve_closed() { [ "$(sim get gas-1 status.valve_closed)" = "ok 1" ]; }
check "the valve is closed in the device" wait_until 5 valve_closed

command ebike-1 '{"id":"ok-2","action":"stop_port","port":4}'
check "stop_port is answered" wait_until 10 answered ebike-1 ok-2
check "stop_port succeeded" json_is '.ok == true' <<<"$(result ebike-1 ok-2)"
port_stopped() { [ "$(sim get ebike-1 port4.state)" = "ok 4" ]; } # 4: disabled
check "port 4 is stopped in the charging pile" wait_until 5 port_stopped

# Hostile payloads: each gets {"ok":false,"error":...} naming its id.
bad=(
    '{"id":"bad-1"'
    '{"id":"bad-2","action":"open_valve"}'
    '{"id":"bad-3","action":"close_valve","force":true}'
    '{"id":"bad-4","action":7}'
    '{"id":"bad-5"}'
    '{"id":"bad-6","action":"stop_port"}'
    '{"id":"bad-7","action":"self_destruct"}'
    '{"id":"bad-8","action":"close_valve","port":1}'
    '{"id":"bad-9","action":"CLOSE_VALVE"}'
    '{"id":"bad-10","action":"close_valve","action":"close_valve"}'
    '{"id":"bad-11","action":"reset_alarm","extra":{"nested":[1,2,3]}}'
    '{"id":"bad-12","action":null}'
    '{"id":"bad-13","action":["close_valve"]}'
    '{"id":"bad-14","action":""}'
    '{"id":"bad-15","action":"close_valve\u0000x"}'
    '{"id":"bad-16","action":"stop_port","port":1}'
    '{"id":"bad-17","action":"close_valve","id2":"x"}'
    '{"id":"bad-18","action":"close_valve ","note":"trailing space"}'
    '{"id":"bad-19","action":{"name":"close_valve"}}'
    '{"id":"bad-20","action":"close_valve",}'
    '{"id":"bad-21","action":true}'
)
# Not even JSON, or no usable id: answered all the same, with id null.
bad+=('not json at all' "$(head -c 5000 /dev/zero | tr '\0' 'x')" '[]' '')
for payload in "${bad[@]}"; do command gas-2 "$payload"; done
replies() { awk -v t="$TOPIC_PREFIX/cmd-result/gas-2" '$1 == t { $1 = ""; print substr($0, 2) }' "$WORK/results.txt"; }
all_answered() { [ "$(replies | wc -l)" -eq ${#bad[@]} ]; }
check "every one of ${#bad[@]} malformed commands is answered" wait_until 15 all_answered
refused=$(replies | jq -c 'select(.ok == false and (.error | length) > 5)' | wc -l)
check "and each is refused with a reason" test "$refused" -eq ${#bad[@]}
check "a refusal names the command it answers" json_is '.error | test("not declared")' <<<"$(result gas-2 bad-2)"
check "no malformed command closed the valve" test "$(sim get gas-2 status.valve_closed)" = "ok 0"
command no-such-device '{"id":"ghost","action":"close_valve"}'
check "a command for an unknown device is refused" wait_until 10 answered no-such-device ghost

subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/alarm/#" # before the hazard, or its event may pass unseen
sim hazard lift-1 trapped >/dev/null
check "the daemon keeps polling and raising alarms" \
    wait_until 10 has_event "$WORK/mqtt.txt" lift-1 trapped raised
check "the daemon is still running" kill -0 "$DAEMON_PID"
finish
