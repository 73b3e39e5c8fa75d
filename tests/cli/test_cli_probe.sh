#!/bin/bash
# safetygw probe reads one device directly, without a daemon: over an RTU
# pty and over Modbus TCP, every decoded point with its unit, and clear words
# for the usual field failures (timeout, CRC error, exception reply).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/cli_lib.sh"

BROKER_PORT=1 # no daemon here: the site only needs a well-formed mqtt section
write_site "$WORK/site.yaml" 4 500
start_sim "$WORK/site.yaml" --no-wire-delay
RTU=(--port "$WORK/bldg-1" --baud 9600 --profiles "$PROFILES" --timeout-ms 300)
TCP=(--tcp "127.0.0.1:$TCP_PORT" --profiles "$PROFILES" --timeout-ms 300)

# probe ARGS...: runs the probe, sets OUT (stdout+stderr) and CODE.
probe() { CODE=0; OUT=$("$CLI" probe "$@" 2>&1) || CODE=$?; echo "$OUT"; }
# outcome CODE PATTERN...: the last probe exited CODE and its output matches every PATTERN.
outcome() {
    [ "$CODE" = "$1" ] || return 1; shift
    local pattern
    for pattern in "$@"; do grep -q -- "$pattern" <<<"$OUT" || return 1; done
}

probe "${RTU[@]}" --address 1 --profile gas-alarm
check "RTU: a good device exits 0" test "$CODE" = 0
check "RTU: every point is printed, with units" \
    outcome 0 '^gas_lel  *[0-9.]* %LEL' '^sensor_life_days  *[0-9]* days' '^temperature  *[0-9.-]* °C' '^status  *none$'
check "RTU: the header says who answered and how fast" grep -q "^address 1 on $WORK/bldg-1 (9600 8N1) answered in [0-9.]* ms (profile gas-alarm)" <<<"$OUT"

sim set gas-2 gas_lel 12.5 >/dev/null
json=$("$CLI" probe "${RTU[@]}" --address 2 --profile "$PROFILES/gas-alarm.yaml" --json)
check "RTU --json with a profile file: the value the simulator set" holds \
    '.ok and .profile == "gas-alarm" and (.values[] | select(.point == "gas_lel")) == {"point":"gas_lel","value":12.5,"unit":"%LEL"}' "$json"

probe "${RTU[@]}" --address 2 --profile gas-alarm --raw
check "RTU --raw shows the registers beside the values" \
    outcome 0 "^gas_lel  *12.5 %LEL  *holding 0 = 0x007d" "^status  *al1  *holding 1 = 0x0002"

probe "${RTU[@]}" --address 9 --profile gas-alarm
check "RTU: a wrong address is a timeout, exit 1, with what to check" \
    outcome 1 'timeout: no answer from address 9 on .* within 300 ms. Check the device.s address'

sim fault gas-3 bad_crc >/dev/null
probe "${RTU[@]}" --address 3 --profile gas-alarm
check "RTU: CRC errors point at baud, parity or noise, exit 1" \
    outcome 1 'CRC error: .*baud rate, parity or stop bits differ'
sim heal gas-3 >/dev/null

sim fault gas-4 exception 2 >/dev/null
json=$("$CLI" probe "${RTU[@]}" --address 4 --profile gas-alarm --json 2>/dev/null) || true
check "RTU: an exception reply names the wrong register map" holds \
    '.ok == false and .error_class == "exception" and .exception_code == 2 and (.error | contains("Illegal data address")) and (.error | contains("wrong register map"))' "$json"
sim heal gas-4 >/dev/null

probe "${TCP[@]}" --unit 1 --profile elevator
check "TCP: the elevator's points are printed" \
    outcome 0 '^floor  *-\?[0-9]*$' '^speed  *[0-9.]* m/s'
probe "${TCP[@]}" --unit 2 --profile ebike-charger-10 --json
check "TCP --json: the charger's port points" holds '.ok and ([.values[].point] | length) > 10' "$OUT"
probe "${TCP[@]}" --unit 9 --profile elevator
check "TCP: a unit the converter cannot reach is exit 1, pointing at its serial side" \
    outcome 1 "exception 11 (Target device failed to respond): the Modbus TCP converter could not reach"

probe --port "$WORK/no-such-tty" --address 1 --profile gas-alarm --profiles "$PROFILES"
check "a port that cannot be opened is exit 2, naming it" \
    outcome 2 "cannot open $WORK/no-such-tty"
probe "${RTU[@]}" --address 1 --profile gas-detector-9000
check "an unknown profile name is exit 2, naming the folder" \
    outcome 2 "no profile named \"gas-detector-9000\" in $PROFILES"
probe "${RTU[@]}" --address 1 --tcp 127.0.0.1:1 --profile gas-alarm
check "--port and --tcp together is a usage error" test "$CODE" = 2
probe "${RTU[@]}" --address 300 --profile gas-alarm
check "an address out of 1..247 is a usage error" \
    outcome 2 '--address takes a number 1..247'
finish
