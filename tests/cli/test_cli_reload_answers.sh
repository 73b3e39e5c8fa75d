#!/bin/bash
# A reload does not interrupt the control socket: 50 SIGHUPs in about 5 s,
# alternating between two configurations (different devices, one with a
# profile of many more points), while `safetygw status` runs back to back:
# every call answers with JSON, and the answers follow the configuration.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/cli_lib.sh"

RELOADS=50
start_broker
write_site "$WORK/big.yaml" 6 300 # gas-1..6, lift-1, ebike-1 (a 10-port charger: many points)
sed '/id: gas-[56],/d; /id: ebike-1,/,+1d' "$WORK/big.yaml" >"$WORK/small.yaml" # gas-1..4, lift-1
BIG_TOTAL=8
cp "$WORK/big.yaml" "$WORK/site.yaml"
SOCKET="$WORK/control.sock"
start_sim "$WORK/big.yaml" --no-wire-delay
start_daemon "$WORK/site.yaml"

status_total() { "$CLI" status --socket "$SOCKET" --json 2>/dev/null | jq -e .devices.total; }
total_is() { [ "$(status_total)" = "$1" ]; }
wait_until 15 total_is $BIG_TOTAL ||
    { fail "the daemon does not answer with the first configuration"; finish; exit 1; }
check "the second configuration is valid" "$CLI" check "$WORK/small.yaml" >/dev/null

# ask_until_stopped: `safetygw status` back to back until $WORK/stop exists; then
# writes "CALLS FAILED" to $WORK/asked and each failure's output to $WORK/failures.
ask_until_stopped() {
    local calls=0 failed=0 out
    while [ ! -e "$WORK/stop" ]; do
        # exit 0 means the CLI parsed an {"ok":true,...} answer; the prefix shows it printed it
        if ! out=$("$CLI" status --socket "$SOCKET" --json 2>/dev/null) || [[ $out != '{"ok":true,'* ]]; then
            failed=$((failed + 1))
            echo "${out:0:300}" >>"$WORK/failures"
        fi
        calls=$((calls + 1))
    done
    echo "$calls $failed" >"$WORK/asked"
}
ask_until_stopped &
ASKER=$!
PIDS="$PIDS $ASKER"

reloads_before=$(grep -c "reloaded $WORK/site.yaml" "$WORK/daemon.log" || true)
for i in $(seq 1 $RELOADS); do
    if [ $((i % 2)) = 1 ]; then cp "$WORK/small.yaml" "$WORK/site.yaml"; else cp "$WORK/big.yaml" "$WORK/site.yaml"; fi
    kill -HUP "$DAEMON_PID"
    sleep 0.1 # the pace of the signals, not a wait for anything
done
# The last file is the big one: once a status shows it, the last reload is done.
check "after the reloads, status shows the last configuration" wait_until 15 total_is $BIG_TOTAL
touch "$WORK/stop"
wait "$ASKER"
read -r calls failed <"$WORK/asked"
reloads=$(($(grep -c "reloaded $WORK/site.yaml" "$WORK/daemon.log" || true) - reloads_before))
shrunk=$(grep -c "reloaded $WORK/site.yaml: 5 devices kept, 0 edited, 0 added, 3 removed" "$WORK/daemon.log" || true)
grown=$(grep -c "reloaded $WORK/site.yaml: 5 devices kept, 0 edited, 3 added, 0 removed" "$WORK/daemon.log" || true)
echo "$calls status calls during $reloads reloads (from $RELOADS SIGHUPs), $failed failed"
[ ! -s "$WORK/failures" ] || { echo "--- first failures:"; sort "$WORK/failures" | uniq -c | sort -rn | head -5; }
check "the reloads were applied while the CLI asked ($reloads)" test "$reloads" -ge 10
check "they changed the devices both ways ($shrunk times to 5, $grown back to 8)" \
    test "$shrunk" -ge 3 -a "$grown" -ge 3
check "the CLI asked many times meanwhile ($calls calls)" test "$calls" -ge 50
check "every status call answered with JSON ($failed of $calls failed)" test "$failed" = 0
check "the daemon opened its control socket once, never again at a reload" \
    test "$(grep -c 'control: listening on' "$WORK/daemon.log")" = 1
finish
