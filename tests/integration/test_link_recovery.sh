#!/bin/bash
# The field side comes and goes: the simulator (every RS-485 pty and every
# Modbus TCP converter) disappears and comes back. The daemon reports each bus
# down (one root-cause alarm per bus, not one per device), reopens the tty and
# reconnects the TCP bus by itself, and the devices come back online. (That reconnects are backed off is not asserted
# here: the devices' own offline back-off spaces the attempts out as well.)
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 2
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/alarm/#"
start_daemon "$WORK/site.yaml"
online() { grep -q "device $1 is online" "$WORK/daemon.log"; }
check "rtu device online" wait_until 10 online gas-1
check "tcp device online" wait_until 10 online lift-1

# last_seen DEVICE: when the device last answered, as the crew's CLI shows it.
last_seen() { "$CLI" device "$1" --json --socket "$WORK/control.sock" | jq -r .device.last_seen; }
# answers_since DEVICE TIME: the device is online and has answered after TIME.
answers_since() {
    json_is ".device.link == \"online\" and .device.last_seen != \"$2\"" \
        <<<"$("$CLI" device "$1" --json --socket "$WORK/control.sock")"
}
bus_silent() {
    "$CLI" status --socket "$WORK/control.sock" --json |
        json_is ".buses[] | select(.name == \"$1\") | .link_silent == $2"
}
kill -TERM "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true
gas_seen=$(last_seen gas-1)
lift_seen=$(last_seen lift-1)
check "the rtu bus is down when its tty disappears" wait_until 20 has_event "$WORK/mqtt.txt" bldg-1 bus_down raised
check "the tcp bus is down when its converter disappears" wait_until 20 has_event "$WORK/mqtt.txt" conv-1 bus_down raised
check "status: the converter's bus is gone whole (link_silent)" wait_until 20 bus_silent conv-1 true
check "status: the tty's bus is gone whole (link_silent)" wait_until 20 bus_silent bldg-1 true

start_sim "$WORK/site.yaml" --no-wire-delay
check "the tty is reopened: the rtu bus is up" wait_until 60 has_event "$WORK/mqtt.txt" bldg-1 bus_down cleared
check "the TCP bus reconnects: the tcp bus is up" wait_until 60 has_event "$WORK/mqtt.txt" conv-1 bus_down cleared
check "rtu device answers again" wait_until 20 answers_since gas-1 "$gas_seen"
check "tcp device answers again" wait_until 20 answers_since lift-1 "$lift_seen"
check "status: the converter's bus is back (link_silent false)" wait_until 20 bus_silent conv-1 false
check "status: the tty's bus is back (link_silent false)" wait_until 20 bus_silent bldg-1 false
no_device_offline() { ! grep -q "\"alarm\":\"offline\"" "$WORK/mqtt.txt"; }
check "and no device raised its own offline" no_device_offline
finish
