#!/bin/bash
# The control socket on its own (a daemon whose devices never answer still
# serves it): clear CLI errors when the daemon is not running or the socket is
# not accessible, socket mode 0660, malformed and oversized requests refused,
# a silent client or a crowd of them (more than the slots) cannot hang it or
# lock others out, the socket goes at stop.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/cli_lib.sh"

start_broker
write_site "$WORK/site.yaml" 2 500
SOCKET="$WORK/control.sock"

# ask LINE: sends one raw request line, prints the response line.
ask() { printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$SOCKET"; }

# --- no daemon
code=0; out=$("$CLI" status --socket "$SOCKET" 2>&1) || code=$?
echo "$out"
check "without a daemon the CLI exits 2" test "$code" = 2
check "without a daemon the CLI says the daemon is not running" grep -q "no control socket at $SOCKET: is safetygwd running?" <<<"$out"
out=$("$CLI" devices --socket "$SOCKET" --json 2>/dev/null) || true
check "with --json the connection error is JSON on stdout too" error_is "$out" "is safetygwd running"

python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$SOCKET"
code=0; out=$("$CLI" alarms --socket "$SOCKET" 2>&1) || code=$?
echo "$out"
check "a stale socket file is reported as 'not running'" \
    bash -c "test $code = 2 && grep -q 'nothing listens on $SOCKET: safetygwd is not running' <<<'$out'"

# --- the daemon replaces the stale socket and serves it with mode 0660
start_daemon "$WORK/site.yaml"
answering() { holds .ok "$(ask '{"cmd":"status"}')"; }
check "the daemon replaces a stale socket and answers" wait_until 10 answering
mode=$(stat -c %a "$SOCKET")
check "the socket's mode is 0660 (it is $mode)" test "$mode" = 660

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    code=0; out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CLI" status --socket "$SOCKET" 2>&1) || code=$?
    echo "$out"
    check "a user without access gets exit 2 and 'permission denied'" \
        bash -c "test $code = 2 && grep -q 'permission denied on $SOCKET' <<<'$out'"
else
    echo "skipped: the permission check needs root and setpriv"
fi

# --- malformed requests
check "a request that is not JSON is refused with the parser's reason" \
    error_is "$(ask 'status please')" "request is not JSON"
check "a request without cmd is refused" error_is "$(ask '[1,2]')" 'string "cmd"'
check "an unknown cmd is refused, naming the known ones" \
    error_is "$(ask '{"cmd":"reboot"}')" 'unknown cmd "reboot" (status, devices, device, alarms, shelve, unshelve)'
check "a misspelt filter is refused rather than ignored" \
    error_is "$(ask '{"cmd":"devices","sate":"offline"}')" 'unknown key "sate"'
check "device without id is refused" error_is "$(ask '{"cmd":"device"}')" 'needs an "id"'
long=$(head -c 5000 /dev/zero | tr '\0' ' ')
check "a request over 4096 bytes is refused" error_is "$(ask "{\"cmd\":\"status\"$long}")" "longer than 4096 bytes"
check "the daemon still answers after bad requests" answering
check "a request without newline, the client's side closed, is still answered" \
    holds .ok "$(printf '{"cmd":"alarms"}' | socat -t 5 - "UNIX-CONNECT:$SOCKET")"

# --- silent clients
CLIENTS="$SAFETYGW_SOURCE_DIR/tests/cli/control_clients.py"
# silent COUNT NAME: COUNT clients connect and say nothing until the daemon closes them all;
# returns once all are connected. Each one's fate is in $WORK/NAME.report, in connect order.
silent() {
    python3 "$CLIENTS" "$SOCKET" "$1" --until closed --max-s 10 --ready "$WORK/$2.ready" \
        >"$WORK/$2.report" &
    SILENT_PID=$!
    wait_until 10 test -s "$WORK/$2.ready"
}
# told NAME TEXT: how many of NAME's clients were sent an error containing TEXT.
told() { jq -s --arg text "$2" '[.[] | select(.error // "" | contains($text))] | length' "$WORK/$1.report"; }

# Not a stopwatch: status is answered while the silent client is still
# connected, before the daemon logs that it drops it.
drops() { grep -c "control: no complete request within" "$WORK/daemon.log" || true; }
drops_before=$(drops)
check "a silent client connects" silent 1 silent
status_while_silent() { "$CLI" status --socket "$SOCKET" >/dev/null && [ "$(drops)" -eq "$drops_before" ]; }
check "a silent client does not delay others (answered while it is still connected)" status_while_silent
wait "$SILENT_PID"
check "the silent client is told off and dropped after its deadline" \
    test "$(told silent "no complete request (one JSON line) within 2000 ms")" = 1

check "a crowd of 70 silent clients connects, more than the 64 slots" silent 70 crowd
code=0; out=$("$CLI" status --socket "$SOCKET" --json 2>&1) || code=$?
check "the CLI is still answered, not refused (exit $code)" holds .ok "$out"
wait "$SILENT_PID"
check "the daemon closed every one of the crowd" \
    test "$(jq -s '[.[] | select(.closed_by_daemon)] | length' "$WORK/crowd.report")" = 70
check "the 7 silent the longest (the first 7) were dropped to make room, and told so" \
    test "$(head -7 "$WORK/crowd.report" | jq -s '[.[] | select(.error // "" | startswith("dropped to make room: all 64 slots taken"))] | length')" = 7
check "the other 63 were dropped at the deadline" \
    test "$(told crowd "no complete request (one JSON line) within 2000 ms")" = 63
check "the daemon answers after the crowd" answering

# --- one daemon per socket; the socket goes with the daemon
code=0; "$DAEMON" -c "$WORK/site.yaml" >"$WORK/second.log" 2>&1 || code=$?
check "a second daemon on the same socket refuses to start (exit 1)" test "$code" = 1
check "and says the socket is in use" grep -q "control: $SOCKET is in use: is another safetygwd running?" "$WORK/second.log"
check "the first daemon still answers" answering
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"
check "the daemon removes its socket when it stops" test ! -e "$SOCKET"
finish
