#!/bin/bash
# safetygw check prints the wire budget of every rtu bus beside its shortest
# poll_ms, warns about a bus over 100 % with what would fit, and --strict makes
# that warning fail the check.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/cli_lib.sh"

BROKER_PORT=1
write_site "$WORK/fits.yaml" 31 2000
# run ARGS...: sets OUT, ERR and CODE
run() {
    CODE=0
    OUT=$("$CLI" check "$@" 2>"$WORK/err") || CODE=$?
    ERR=$(cat "$WORK/err")
}

run "$WORK/fits.yaml"
echo "$OUT"
check "31 gas alarms every 2 s at 9600 8N1 fit: exit 0" test "$CODE" = 0
check "the budget line: 31 devices, a 1318 ms cycle beside poll_ms 2000, 69 %" \
    grep -q '^bldg-1  *9600 8N1  *31  *1318 ms  *2000 ms  *69 %$' <<<"$OUT"
check "no warning" test -z "$ERR"
check "tcp buses have no wire budget" eval '! grep -q "^conv-1" <<<"$OUT"'

write_site "$WORK/over.yaml" 31 1000
run "$WORK/over.yaml"
echo "$ERR"
check "the same at poll_ms 1000: still valid (exit 0)" test "$CODE" = 0
check "a warning names the bus, its load and what would fit" \
    grep -q '^warning: bus bldg-1 is over its wire budget: 31 devices at 9600 8N1 need 139 % .* at most 22 of them, or at 19200 baud (load 78 %), or with every poll_ms 1.39 times as long (shortest 1400)' <<<"$ERR"
run --strict "$WORK/over.yaml"
check "--strict: the warning fails the check (exit 1)" test "$CODE" = 1
run --json --strict "$WORK/over.yaml"
check "--json: the budget, what fits, the warning, ok false with --strict" holds '
    .ok == false and .wire_budget[0].name == "bldg-1" and .wire_budget[0].load > 1.38 and
    .wire_budget[0].fits == {"devices":22,"baud":19200,"shortest_poll_ms":1400} and
    (.warnings | length) == 1' "$OUT"
run --json "$WORK/fits.yaml"
check "--json of a bus that fits: ok, no warnings" holds \
    '.ok and .wire_budget[0].load < 0.7 and .warnings == []' "$OUT"
finish
