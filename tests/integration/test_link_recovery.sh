#!/bin/bash
# The field side comes and goes: the simulator (every RS-485 pty and every
# Modbus TCP converter) disappears and comes back. The daemon reports the
# devices offline, reopens the tty and reconnects the TCP bus by itself, and
# the devices come back online. (That reconnects are backed off is not asserted
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

kill -TERM "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true
check "rtu device goes offline when its tty disappears" wait_until 20 has_event "$WORK/mqtt.txt" gas-1 offline raised
check "tcp device goes offline when its converter disappears" wait_until 20 has_event "$WORK/mqtt.txt" lift-1 offline raised
bus_silent() {
    "$CLI" status --socket "$WORK/control.sock" --json |
        json_is ".buses[] | select(.name == \"$1\") | .link_silent == $2"
}
check "status: the converter's bus is gone whole (link_silent)" wait_until 20 bus_silent conv-1 true
check "status: the tty's bus is gone whole (link_silent)" wait_until 20 bus_silent bldg-1 true

start_sim "$WORK/site.yaml" --no-wire-delay
check "the tty is reopened: rtu device back online" wait_until 60 has_event "$WORK/mqtt.txt" gas-1 offline cleared
check "the TCP bus reconnects: tcp device back online" wait_until 60 has_event "$WORK/mqtt.txt" lift-1 offline cleared
check "status: the converter's bus is back (link_silent false)" wait_until 20 bus_silent conv-1 false
check "status: the tty's bus is back (link_silent false)" wait_until 20 bus_silent bldg-1 false
finish
