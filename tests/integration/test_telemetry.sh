#!/bin/bash
# P/telemetry/<id>: values on change beyond a deadband and every period, as the
# profile asks; nothing for profiles that do not ask.
. "$(dirname "$0")/lib.sh"

start_broker
# The shipped profiles, with on-change telemetry for gas alarms every 5 s.
mkdir -p "$WORK/profiles"
cp "$PROFILES"/*.yaml "$WORK/profiles/"
sed -i 's/^telemetry: .*/telemetry: { period_ms: 5000, on_change: true }/' "$WORK/profiles/gas-alarm.yaml"
sed -i 's/unit: "%LEL" }$/unit: "%LEL", deadband: 5 }/' "$WORK/profiles/gas-alarm.yaml"
sed -i 's/^telemetry: .*//' "$WORK/profiles/elevator.yaml"
PROFILES="$WORK/profiles"
write_site "$WORK/site.yaml" 2
start_sim "$WORK/site.yaml" --no-wire-delay
sim set gas-1 temperature 20 >/dev/null   # pinned: only gas_lel moves in this test
sim set gas-1 gas_lel 1 >/dev/null
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/telemetry/#"
start_daemon "$WORK/site.yaml"

telemetry() { grep "^$TOPIC_PREFIX/telemetry/$1 " "$WORK/mqtt.txt" | cut -d' ' -f2-; }
first() { [ -n "$(telemetry gas-1)" ]; }
check "a gas alarm sends telemetry" wait_until 10 first
check "with its values" json_is '.values.gas_lel == 1 and (.values.status | type) == "object" and (.ts | test("Z$"))' <<<"$(telemetry gas-1 | head -1)"
sleep 1
count=$(telemetry gas-1 | wc -l)
sim set gas-1 gas_lel 3 >/dev/null         # within the 5 %LEL deadband: no message for it
sleep 1
check "a change inside the deadband sends nothing" test "$(telemetry gas-1 | wc -l)" -eq "$count"
sim set gas-1 gas_lel 12 >/dev/null
moved() { telemetry gas-1 | tail -1 | json_is '.values.gas_lel == 12'; }
check "a change beyond the deadband is sent at once" wait_until 3 moved
count=$(telemetry gas-1 | wc -l)
periodic() { [ "$(telemetry gas-1 | wc -l)" -gt "$count" ]; }
check "and the period brings the next one" wait_until 8 periodic
check "a profile without telemetry sends none" test -z "$(telemetry lift-1)"
finish
