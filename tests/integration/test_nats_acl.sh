#!/bin/bash
# Per-gateway permissions on NATS with the shipped authorization example
# (docs/acl/nats.conf, its user cs-gw-01 and console made real here): the
# gateway logged in as itself publishes under its own prefix; with another
# gateway's prefix NATS refuses its command subscription (SUBACK 0x80) and
# every publish, and the daemon logs both clearly. A console (`safetygw watch`)
# refused a subscription asks again until the broker grants it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_city.sh"
skip_without_nats

# The shipped file, with plain passwords in place of the bcrypt placeholders.
sed -e 's/"\$2a\$11\$REPLACE.WITH.nats.server.passwd.OUTPUT"/"test-Passw0rd"/' \
    "$SAFETYGW_SOURCE_DIR/docs/acl/nats.conf" >"$WORK/authorization.conf"
echo "test-Passw0rd" >"$WORK/gw.pass"
NATS_EXTRA_CONF="include \"../authorization.conf\"" # relative to the node's folder
nats_cluster_ports 1 # one node is enough for permissions
start_nats_node 1

console() {
    mosquitto_sub -h 127.0.0.1 -p "$NATS_MQTT_1" -q 1 -v -t 'safetygw/#' -u ops-console \
        -P test-Passw0rd -i "console-$1" >"$WORK/console-$1.txt" 2>>"$WORK/sub.log" &
    PIDS="$PIDS $!"
}
BROKER_PORT=$NATS_MQTT_1 # for write_site; site() below sets the mqtt line
write_site "$WORK/site.yaml" 1
site() { # PREFIX
    sed -i -e "s#^mqtt: .*#mqtt: { uri: \"tcp://127.0.0.1:$NATS_MQTT_1\", topic_prefix: $1, username: cs-gw-01, password_file: $WORK/gw.pass }#" \
        -e "s#^gateway: { id: gw-test#gateway: { id: cs-gw-01#" "$WORK/site.yaml"
}
start_sim "$WORK/site.yaml" --no-wire-delay

site safetygw/test/cs-gw-01
console own
start_daemon "$WORK/site.yaml"
check "the gateway logged in as itself connects" wait_until 30 daemon_connected
works() { grep -q "mqtt: the broker delivered our status back: publishing under safetygw/test/cs-gw-01 works" "$WORK/daemon.log"; }
check "its own status comes back: its publishes get through" wait_until 20 works
granted() { grep -q "mqtt: subscribed to safetygw/test/cs-gw-01/cmd/+ (granted QoS 1)" "$WORK/daemon.log"; }
check "its command subscription is granted" wait_until 10 granted
online() { grep -q '^safetygw/test/cs-gw-01/status .*"online"' "$WORK/console-own.txt"; }
check "the console sees it" wait_until 10 online
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true

mv "$WORK/daemon.log" "$WORK/daemon-own.log"
site safetygw/test/cs-gw-02
console other
start_daemon "$WORK/site.yaml"
refused() { grep -q "mqtt: the broker refused the command subscription safetygw/test/cs-gw-02/cmd/+ (SUBACK 0x80)" "$WORK/daemon.log"; }
check "with another gateway's prefix its command subscription is refused, and logged" wait_until 30 refused
no_echo() { grep -q "mqtt: our own retained status did not come back from the broker within 10 s: it probably refuses this gateway's publishes under safetygw/test/cs-gw-02" "$WORK/daemon.log"; }
check "its refused publishes are logged too" wait_until 30 no_echo
violations() { grep -q 'Publish Violation - User "cs-gw-01", Subject "safetygw.test.cs-gw-02.status"' "$WORK/nats-n1.log"; }
check "NATS logs the violation" wait_until 10 violations
check "nothing of it reaches the other gateway's topics" bash -c "! grep -q '^safetygw/test/cs-gw-02/' '$WORK/console-other.txt'"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true

# A console logged in as cs-gw-02 watching cs-gw-01: both subscriptions refused,
# and asked for again; once the operator grants cs-gw-02 that status (and NATS
# reloads its configuration), the console gets it without being restarted.
"$CLI" watch --broker "tcp://127.0.0.1:$NATS_MQTT_1" --json --client-id watch-02 \
    --username cs-gw-02 --password-file "$WORK/gw.pass" --topic-prefix safetygw/test/cs-gw-01 \
    >"$WORK/watch.jsonl" 2>"$WORK/watch.log" &
PIDS="$PIDS $!"
refusals() { [ "$(grep -c "safetygw watch: subscription to safetygw/test/cs-gw-01/status refused by the broker" "$WORK/watch.log")" -ge "$1" ]; }
check "the console's status subscription is refused" wait_until 30 refusals 1
check "and asked for again" wait_until 30 refusals 2
sed -i 's/"safetygw.\*.cs-gw-02.status", /&"safetygw.*.cs-gw-01.status", /' "$WORK/authorization.conf"
check "the operator grants it" grep -q '"safetygw.\*.cs-gw-01.status"' "$WORK/authorization.conf"
kill -HUP "$NATS_PID_1"
granted_to_console() { grep -q "safetygw watch: subscribed to safetygw/test/cs-gw-01/status (granted QoS 1)" "$WORK/watch.log"; }
check "the console's next attempt is granted" wait_until 90 granted_to_console
gw01_status() { json_is 'select(.type == "status" and .gateway == "safetygw/test/cs-gw-01")' <"$WORK/watch.jsonl" 2>/dev/null; }
check "and the retained status of cs-gw-01 reaches it" wait_until 10 gw01_status
check "the alarms stay refused, and asked for" grep -q "safetygw watch: subscription to safetygw/test/cs-gw-01/alarm/# refused" "$WORK/watch.log"
finish
