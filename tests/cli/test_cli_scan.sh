#!/bin/bash
# safetygw scan lists exactly the addresses that answer, on an RS-485 line
# and behind a Modbus TCP converter, against the simulator (strict t3.5
# framing, real wire timing): an exception reply counts as answering, a
# converter's exception 0x0B (no device behind it) does not. With --profile it
# says whether each device's registers decode within the profile's ranges.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/cli_lib.sh"

BROKER_PORT=1 # no daemon here: the site only needs a well-formed mqtt section
write_site "$WORK/site.yaml" 4 500
start_sim "$WORK/site.yaml"
RTU=(--port "$WORK/bldg-1" --baud 9600 --timeout-ms 100 --profiles "$PROFILES")
TCP=(--tcp "127.0.0.1:$TCP_PORT" --timeout-ms 100 --profiles "$PROFILES")

# scan ARGS...: runs the scan, sets OUT (stdout), ERR (stderr) and CODE.
scan() {
    CODE=0
    OUT=$("$CLI" scan "$@" 2>"$WORK/scan.err") || CODE=$?
    ERR=$(cat "$WORK/scan.err")
    echo "$OUT"
}
found() { jq -c '[.found[].address]' <<<"$OUT"; }

scan "${RTU[@]}" --addresses 1-10 --json
check "RTU: exactly the four alarms at 1..4 answer (found $(found))" test "$(found)" = "[1,2,3,4]"
check "RTU: exit 0 when something answers" test "$CODE" = 0
check "RTU: each is listed with its line settings" \
    holds '[.found[] | .line == "9600 8N1" and .baud == 9600 and .parity == "N"] | all' "$OUT"
check "RTU: ten addresses asked on one line" holds '.lines == [{"line":"9600 8N1","asked":10,"answered":4,"garbled":0}]' "$OUT"
check "not a terminal: no progress on stderr" test -z "$ERR"

sim fault gas-2 silent >/dev/null
sim fault gas-4 exception 2 >/dev/null
scan "${RTU[@]}" --addresses 1-6 --json
check "RTU: a silent device is not listed, one answering with an exception is" \
    holds '[.found[].address] == [1,3,4] and (.found[2] | .answer == "exception 2" and .exception_code == 2)' "$OUT"
scan "${RTU[@]}" --addresses 1-6
check "RTU table: a row per answering address" test "$(grep -c '^[134]  *9600 8N1' <<<"$OUT")" = 3
sim heal gas-2 >/dev/null
sim heal gas-4 >/dev/null

sim set gas-3 gas_lel 300 >/dev/null
scan "${RTU[@]}" --addresses 1-4 --profile gas-alarm
check "RTU --profile: a reading out of the profile's range is named" \
    grep -q '^3 .*1 out of range: gas_lel = 300 %LEL (0..100)' <<<"$OUT"
check "RTU --profile: exit 1 when a device fails the check" test "$CODE" = 1
check "RTU --profile: the others decode in range" grep -q '^1 .*ok: 8 points in range' <<<"$OUT"
sim calm gas-3 >/dev/null

scan "${TCP[@]}" --units 1-6 --json
check "TCP: exactly units 1 and 2 answer; 0x0B for the others is not an answer (found $(found))" \
    test "$(found)" = "[1,2]"
scan "${TCP[@]}" --units 1-3 --profile elevator --json
check "TCP --profile elevator: the lift decodes in range" \
    holds '.found[] | select(.address == 1) | .profile.ok' "$OUT"
check "TCP --profile elevator: the charging pile at unit 2 does not (a wrong profile)" \
    holds '.found[] | select(.address == 2) | .profile.ok == false and (.profile.out_of_range | length) > 0' "$OUT"
check "TCP --profile: exit 1" test "$CODE" = 1

sim fault bus bldg-1 down >/dev/null
scan "${RTU[@]}" --addresses 1-3
check "nothing answers: exit 1" test "$CODE" = 1
check "nothing answers: said in words" grep -q "^no address answered on $WORK/bldg-1" <<<"$OUT"
sim heal bus bldg-1 >/dev/null

scan --port "$WORK/no-such-tty" --addresses 1-3
check "a port that cannot be opened: exit 2" test "$CODE" = 2
check "a port that cannot be opened: named" grep -q "cannot open $WORK/no-such-tty" <<<"$ERR"
scan "${RTU[@]}" --addresses 5-2
check "a range that runs backwards is a usage error" test "$CODE" = 2
scan "${RTU[@]}" --units 1-3
check "--units with --port is a usage error" test "$CODE" = 2
finish
