#!/bin/bash
# The broker goes away and comes back on the same port: the daemon reconnects
# by itself, republishes its retained status and publishes what happens after.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/site.yaml" 2
start_sim "$WORK/site.yaml" --no-wire-delay
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected

stop_broker
lost() { grep -q "mqtt: connection to .* lost" "$WORK/daemon.log"; }
check "daemon notices the broker is gone" wait_until 10 lost
# The outage lasts until the daemon has tried to reconnect and failed: what
# follows is its own retry, not the first attempt after the loss.
retried_in_vain() { grep -q "mqtt: cannot connect to " "$WORK/daemon.log"; }
check "daemon retries in vain while the broker is down" wait_until 30 retried_in_vain
start_broker "$BROKER_PORT"
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/#"
reconnected() { [ "$(grep -c "mqtt: connected" "$WORK/daemon.log")" -ge 2 ]; }
check "daemon reconnects by itself" wait_until 40 reconnected
status_online() { grep -q "^$TOPIC_PREFIX/status .*\"state\":\"online\"" "$WORK/mqtt.txt"; }
check "status is online again" wait_until 10 status_online

sim hazard lift-1 trapped >/dev/null
check "an alarm after the restart arrives" wait_until 15 has_event "$WORK/mqtt.txt" lift-1 trapped raised
finish
