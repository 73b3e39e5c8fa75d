#!/bin/bash
# The northbound link over TLS with a CA and a client certificate made here
# with openssl, plus a username and password_file: the right credentials
# connect; a wrong CA, a wrong password or a missing file are refused with a
# clear log line.
. "$(dirname "$0")/lib.sh"

# --- a CA, the broker's certificate for 127.0.0.1, a client certificate, and a stranger CA
pki="$WORK/pki"
mkdir -p "$pki"
make_ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
        -keyout "$pki/$1.key" -out "$pki/$1.crt" 2>/dev/null
}
make_cert() { # NAME CA SUBJECT-ALT-NAME
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$pki/$1.key" \
        -out "$pki/$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\n' "$3" >"$pki/$1.ext"
    openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$2.crt" -CAkey "$pki/$2.key" -CAcreateserial \
        -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
}
make_ca test-ca
make_ca stranger-ca
make_cert broker test-ca "IP:127.0.0.1"
make_cert gateway test-ca "DNS:gw-test"
chmod 644 "$pki"/*.key # the broker runs as its own user
echo "s3cret-Passw0rd" >"$WORK/mqtt.pass"
echo "wrong" >"$WORK/wrong.pass"
mosquitto_passwd -b -c "$WORK/broker.passwd" gw-test "s3cret-Passw0rd"
chmod 644 "$WORK/broker.passwd"
cat >"$WORK/mosquitto.extra.conf" <<CONF
cafile $pki/test-ca.crt
certfile $pki/broker.crt
keyfile $pki/broker.key
require_certificate true
allow_anonymous false
password_file $WORK/broker.passwd
CONF
start_broker

# site_with_tls CA PASSWORD_FILE [CERT]: the test site, over TLS.
site_with_tls() {
    write_site "$WORK/site.yaml" 1
    sed -i "s#^mqtt: .*#mqtt: { uri: \"ssl://127.0.0.1:$BROKER_PORT\", topic_prefix: $TOPIC_PREFIX, username: gw-test, password_file: $2,\\n        tls: { ca_file: $pki/$1.crt, cert_file: ${3:-$pki/gateway.crt}, key_file: $pki/gateway.key } }#" \
        "$WORK/site.yaml"
}

subscribe_tls() {
    mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -v -t "$TOPIC_PREFIX/#" \
        --cafile "$pki/test-ca.crt" --cert "$pki/gateway.crt" --key "$pki/gateway.key" \
        -u gw-test -P "s3cret-Passw0rd" >"$WORK/mqtt.txt" 2>>"$WORK/sub.log" &
    PIDS="$PIDS $!"
}

# run_daemon_until PATTERN: runs the daemon on the current site until its log
# says PATTERN (grep -i) or 30 s pass, then stops it; fails in the latter case.
run_daemon_until() {
    : >"$WORK/daemon.log"
    start_daemon "$WORK/site.yaml"
    local said=0
    wait_until 30 grep -qi "$1" "$WORK/daemon.log" || said=1
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    return "$said"
}

site_with_tls test-ca "$WORK/mqtt.pass"
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe_tls
start_daemon "$WORK/site.yaml"
check "TLS with the right CA, client certificate and password connects" wait_until 15 daemon_connected
online() { grep -q "^$TOPIC_PREFIX/status .*online" "$WORK/mqtt.txt"; }
check "and publishes over it" wait_until 10 online
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true

# Each refusal is waited for by its reason in the log; by then the daemon had
# its chance to connect and must not have.
site_with_tls stranger-ca "$WORK/mqtt.pass"
check "a broker certificate from another CA is refused with the reason in the log" \
    run_daemon_until "certificate verify failed"
check "and never connects" bash -c "! grep -q 'mqtt: connected' '$WORK/daemon.log'"

site_with_tls test-ca "$WORK/wrong.pass"
check "a wrong password is refused with the reason in the log" run_daemon_until "not authori"
check "and never connects" bash -c "! grep -q 'mqtt: connected' '$WORK/daemon.log'"

site_with_tls test-ca "$WORK/mqtt.pass" "$pki/missing.crt"
"$DAEMON" -c "$WORK/site.yaml" >"$WORK/daemon.log" 2>&1 && status=0 || status=$?
check "a missing certificate file stops the start" test "$status" -eq 1
check "naming the file" grep -q "cannot read TLS file $pki/missing.crt" "$WORK/daemon.log"
finish
