#!/bin/bash
# status, devices, device and alarms against a running daemon on the
# simulator, in table and JSON form: the crew's view must match what the
# simulator did (devices made silent are offline, injected CRC errors show).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/cli_lib.sh"

start_broker
write_site "$WORK/site.yaml" 6 300
SOCKET="$WORK/control.sock"
start_sim "$WORK/site.yaml" --no-wire-delay
sim fault gas-2 silent >/dev/null
sim fault gas-5 silent >/dev/null
start_daemon "$WORK/site.yaml"
wait_until 10 test -S "$SOCKET" || { fail "daemon did not open its control socket"; exit 1; }

cli() { "$CLI" "$@" --socket "$SOCKET"; }
offline_ids() { cli devices --state offline --json | jq -r '[.devices[].id] | sort | join(" ")'; }
offline_is() { [ "$(offline_ids)" = "$1" ]; }

# --- devices: the silent ones, exactly
check "devices --state offline lists exactly the silent devices" wait_until 20 offline_is "gas-2 gas-5"
table=$(cli devices --state offline)
echo "$table"
check "the offline table has a header and one line per silent device" \
    test "$(echo "$table" | grep -c '^gas-[25] ')" = 2 -a "$(echo "$table" | head -1 | cut -c1-2)" = ID
check "the offline table shows their Chinese location" grep -q "长寿新村/1/1/102" <<<"$table"

# Alignment: the column after LOCATION starts at the same display column on every line.
all=$(cli devices)
echo "$all"
check "every device is listed" test "$(echo "$all" | grep -c '^\(gas\|lift\|ebike\)-')" = 8
check "connection options may come before the command" \
    test "$("$CLI" --socket "$SOCKET" --json devices | jq '.devices | length')" = 8
columns=$(python3 - "$all" <<'PY'
import sys, unicodedata
def width(s): return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = sys.argv[1].splitlines()
# display column where the ALARMS cell starts on each line (the text after the last gap)
print(len({width(l[:l.rindex("  ") + 2]) if "  " in l else -1 for l in lines}))
PY
)
check "the ALARMS column is aligned on every line despite two-column Chinese characters" test "$columns" = 1
check "devices --kind elevator lists only the lift" \
    test "$(cli devices --kind elevator --json | jq -r '[.devices[].id] | join(" ")')" = lift-1
check "devices --bus conv-1 lists the TCP bus's devices" \
    test "$(cli devices --bus conv-1 --json | jq -r '[.devices[].id] | sort | join(" ")')" = "ebike-1 lift-1"
check "devices --fail-on offline exits 1 when devices are offline" \
    bash -c "'$CLI' devices --socket '$SOCKET' --fail-on offline >/dev/null; test \$? = 1"
check "devices --bus conv-1 --fail-on offline exits 0 (nothing offline there)" \
    cli devices --bus conv-1 --fail-on offline
check "an unknown --state is refused by the daemon with exit 2" \
    bash -c "'$CLI' devices --socket '$SOCKET' --state broken 2>&1 >/dev/null | grep -q 'unknown state'; test \${PIPESTATUS[0]} = 2"
check "an unknown --bus is named in the error" \
    bash -c "'$CLI' devices --socket '$SOCKET' --bus nope 2>&1 | grep -q 'no bus named \"nope\"'"

# --- alarms: a gas leak raised on gas-3, newest first
sim set gas-3 gas_lel 30 >/dev/null
has_alarm() { holds '.alarms[] | select(.device == "gas-3" and .alarm == "gas_high")' "$(cli alarms --json)"; }
check "alarms shows gas_high on gas-3" wait_until 10 has_alarm
alarms=$(cli alarms)
echo "$alarms"
check "the alarms table names device, alarm, severity and the reading" \
    grep -q "critical  gas-3  *gas_high .*gas_lel = 30 %LEL (threshold 25 %LEL)" <<<"$alarms"
newest_first=$(cli alarms --json | jq '[.alarms[].since] as $s | $s == ($s | sort | reverse)')
check "alarms are newest first" test "$newest_first" = true
check "alarms --fail-on alarm exits 1" bash -c "'$CLI' alarms --socket '$SOCKET' --fail-on alarm >/dev/null; test \$? = 1"

# --- device ID: values with units, active alarms with since, sensor life
detail=$(cli device gas-3)
echo "$detail"
check "device shows the gas reading with its unit" grep -q "^gas_lel  *30 %LEL" <<<"$detail"
check "device shows the active alarm with since when" grep -q "^gas_high  *critical  *20[0-9-]* [0-9:]*  *[0-9]*s ago" <<<"$detail"
check "device shows sensor life left" grep -q "^sensor life  [0-9]* days left" <<<"$detail"
check "device shows polls and latency" grep -q "^latency      last [0-9.]* ms, mean [0-9.]* ms" <<<"$detail"
json=$(cli device gas-3 --json)
check "device --json carries values, alarms, stats and sensor life" holds \
    '.device.values[0] == {"point":"gas_lel","value":30,"unit":"%LEL"} and
     .device.active_alarms[0].since != null and .device.stats.polls_ok > 0 and
     (.device.sensor_life_days | type) == "number"' "$json"
check "device --fail-on alarm exits 1 for a device in alarm" \
    bash -c "'$CLI' device gas-3 --socket '$SOCKET' --fail-on alarm >/dev/null; test \$? = 1"
check "device --fail-on alarm exits 0 for a quiet device" cli device gas-4 --fail-on alarm
check "an unknown device ID is an error with exit 2" \
    bash -c "'$CLI' device gas-99 --socket '$SOCKET' 2>&1 | grep -q 'no device with id \"gas-99\"'; test \${PIPESTATUS[0]} = 2"

# --- CRC errors injected on gas-6 show in its detail
sim fault gas-6 bad_crc >/dev/null
crc_errors() { holds '.device.stats.crc_errors > 0' "$(cli device gas-6 --json)"; }
check "CRC errors injected on gas-6 are counted" wait_until 10 crc_errors
detail=$(cli device gas-6)
echo "$detail"
check "device gas-6 shows its CRC errors" grep -q "^errors       [0-9]* timeouts, [1-9][0-9]* CRC errors" <<<"$detail"
sim heal gas-6 >/dev/null
fault_state() { [ "$(cli device gas-6 --json | jq -r .device.state)" = fault ]; }
# gas-6 may have gone offline under its CRC errors: its next poll then waits out the
# dead-device back-off, which a slow machine lets grow long before the heal.
check "a device that answers again after errors is 'fault' for a while" wait_until 30 fault_state

# --- exception replies: code and name
sim fault gas-4 exception 2 >/dev/null
exception_2() { holds '.device.stats.last_exception_code == 2' "$(cli device gas-4 --json)"; }
check "exception replies are counted with their code" wait_until 10 exception_2
check "device shows the exception's meaning" bash -c "'$CLI' device gas-4 --socket '$SOCKET' | grep -q 'exception    last code 2: Illegal data address'"

# --- status
status=$(cli status)
echo "$status"
check "status shows the gateway and MQTT" grep -q "^mqtt      connected, tcp://127.0.0.1:$BROKER_PORT" <<<"$status"
check "status shows both buses" bash -c "grep -q '^bldg-1  *rtu' <<<'$status' && grep -q '^conv-1  *tcp' <<<'$status'"
check "status --json counts devices by state" holds \
    '.devices.total == 8 and .devices.offline >= 2 and .devices.in_alarm >= 1 and (.buses | length) == 2' \
    "$(cli status --json)"
check "status --fail-on offline exits 1" bash -c "'$CLI' status --socket '$SOCKET' --fail-on offline >/dev/null; test \$? = 1"
check "status -c SITE finds the socket from gateway.control_socket" "$CLI" status -c "$WORK/site.yaml" --json

# --- healing brings the silent devices back
sim heal gas-2 >/dev/null # gas-4 stays offline: it answers every poll with an exception
check "a healed device leaves the offline list" wait_until 20 offline_is "gas-4 gas-5"
finish
