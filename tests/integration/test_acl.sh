#!/bin/bash
# Per-gateway permissions with the shipped mosquitto ACL (docs/acl/mosquitto.acl):
# a gateway logged in as itself publishes under its own prefix and reads its
# own commands; configured with another gateway's prefix it is refused by the
# broker, nothing of it reaches the other gateway's topics, and the daemon
# says so in its log: its own retained status does not come back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_city.sh"

echo "gw-test-Passw0rd" >"$WORK/gw-test.pass"
mosquitto_passwd -b -c "$WORK/broker.passwd" gw-test "gw-test-Passw0rd"
mosquitto_passwd -b "$WORK/broker.passwd" gw-other "gw-other-Passw0rd"
mosquitto_passwd -b "$WORK/broker.passwd" ops-console "console-Passw0rd"
mosquitto_passwd -b "$WORK/broker.passwd" ops-dispatch "dispatch-Passw0rd"
cp "$SAFETYGW_SOURCE_DIR/docs/acl/mosquitto.acl" "$WORK/broker.acl"
chmod 644 "$WORK/broker.passwd" "$WORK/broker.acl"
cat >"$WORK/mosquitto.extra.conf" <<CONF
allow_anonymous false
password_file $WORK/broker.passwd
acl_file $WORK/broker.acl
use_username_as_clientid true
log_type all
CONF
start_broker

# The operations console sees every gateway's topics.
mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -v -t 'safetygw/#' -u ops-console \
    -P console-Passw0rd >"$WORK/console.txt" 2>>"$WORK/sub.log" &
PIDS="$PIDS $!"

# site PREFIX: the test site logged in as gw-test, publishing under PREFIX.
write_site "$WORK/site.yaml" 1
site() {
    sed -i "s#^mqtt: .*#mqtt: { uri: \"tcp://127.0.0.1:$BROKER_PORT\", topic_prefix: $1, username: gw-test, password_file: $WORK/gw-test.pass }#" \
        "$WORK/site.yaml"
}

site safetygw/test/gw-test
start_sim "$WORK/site.yaml" --no-wire-delay
start_daemon "$WORK/site.yaml"
check "a gateway logged in as itself connects" wait_until 10 daemon_connected
subscribed() { grep -q "mqtt: subscribed to safetygw/test/gw-test/cmd/+ (granted QoS 1)" "$WORK/daemon.log"; }
check "and may read its own commands" wait_until 10 subscribed
own_status() { grep -q '^safetygw/test/gw-test/status .*"online"' "$WORK/console.txt"; }
check "its status reaches the console" wait_until 10 own_status
echoed() { grep -q "mqtt: the broker delivered our status back: publishing under safetygw/test/gw-test works" "$WORK/daemon.log"; }
check "and comes back to the gateway itself: its publishes get through" wait_until 15 echoed
sim hazard lift-1 trapped >/dev/null
TOPIC_PREFIX=safetygw/test/gw-test
check "its alarms reach the console" wait_until 15 has_event "$WORK/console.txt" lift-1 trapped raised
# a dispatcher sends a command, the gateway answers under its own prefix
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -u ops-dispatch -P dispatch-Passw0rd \
    -t safetygw/test/gw-test/cmd/gas-1 -m '{"id":"acl-1","action":"close_valve"}'
answered() { grep -q '^safetygw/test/gw-test/cmd-result/gas-1 .*"acl-1"' "$WORK/console.txt"; }
check "a console's command reaches it and its answer comes back" wait_until 15 answered
sim calm lift-1 >/dev/null
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true

# The same login with another gateway's prefix.
mv "$WORK/daemon.log" "$WORK/daemon-own.log"
: >"$WORK/console.txt.mark"
lines_before=$(wc -l <"$WORK/console.txt")
site safetygw/test/gw-other
start_daemon "$WORK/site.yaml"
check "with another gateway's prefix it still connects (mosquitto checks the Will later)" wait_until 10 daemon_connected
refused() { grep -q "mqtt: our own retained status did not come back from the broker within 10 s: it probably refuses this gateway's publishes under safetygw/test/gw-other (user \"gw-test\"; check topic_prefix against the broker's ACL)" "$WORK/daemon.log"; }
check "but the daemon logs that its publishes do not get through" wait_until 20 refused
sim hazard lift-1 trapped >/dev/null
made_event() { grep -q "alarm trapped raised.* on lift-1" "$WORK/daemon.log"; }
check "it still makes alarm events" wait_until 15 made_event
denied() { grep -q "Denied PUBLISH from gw-test .*safetygw/test/gw-other/alarm/lift-1" "$WORK/mosquitto.log"; }
check "which the broker denies" wait_until 10 denied
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
will_denied() { grep -q "Denied PUBLISH from gw-test .*safetygw/test/gw-other/status" "$WORK/mosquitto.log"; }
check "its Last Will is denied too" wait_until 10 will_denied
foreign=$(tail -n "+$((lines_before + 1))" "$WORK/console.txt" | grep -c "^safetygw/test/gw-other/" || true)
check "nothing of it reaches the other gateway's topics" test "$foreign" -eq 0
finish
