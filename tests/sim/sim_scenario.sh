#!/bin/bash
# A scenario file plays commands at their times: a gas leak ramps gas_lel of
# that alarm (and only that one) to ~30 %LEL within 10 s and sets its AL2
# bit; calm brings it back. The other hazards, over the control socket:
# trapped, smoke, port_overheat. A broken scenario names file, line, column.
source "$(dirname "$0")/common.sh"
write_site
cat >"$WORK/leak.yaml" <<'YAML'
# gas-b1 leaks one second after start; calm after 13 s.
- { at_ms: 1000, do: "hazard gas-b1 gas_leak" }
- at_ms: 13000
  do: calm gas-b1
YAML
start_sim --no-wire-delay --scenario "$WORK/leak.yaml" --seed 11
send "hazard lift-b7 trapped"
send "hazard shed-b9 smoke"
send "hazard shed-b9 port_overheat 2"

# A ramp, not a step: gas-b1 is seen on its way up (the peak takes 10 s).
rising() { mid=$(tcp_probe read 1 holding 0 1) && [ "$mid" -gt 40 ]; }
wait_until 15 rising || fail "gas-b1 not rising: ${mid:-no reply} (0.1 %LEL)"
[ "$mid" -lt 250 ] || fail "gas-b1 went up to $mid (0.1 %LEL) at once, not ramping"
pass "gas-b1 ramping: $mid (0.1 %LEL)"

# The peak, 10 s into the leak and before the calm at 13 s.
peaked() { read -r gas status <<<"$(tcp_probe read 1 holding 0 2)" && [ "$gas" -ge 270 ]; }
wait_until 15 peaked || fail "gas-b1 did not reach ~300 (0.1 %LEL): ${gas:-no reply}"
[ "$gas" -le 330 ] || fail "gas-b1 peak $gas (0.1 %LEL), wanted ~300"
expect "gas-b1 AL1+AL2 bits" "$((status & 6))" 6
for other in "tcp 5" "rtu 1" "rtu 2"; do
    set -- $other
    value=$(${1}_probe read "$2" holding 0 1)
    [ "$value" -le 20 ] || fail "$1 unit $2 gas_lel $value moved with gas-b1's leak"
done
pass "gas-b1 peaked at $gas; gas-b5, gas-a1, gas-a2 stayed at <= 2 %LEL"

read -r mode running direction floor door car events <<<"$(tcp_probe read 7 input 0 7)"
expect "trapped lift: running, trapped + stopped outside zone bits" \
    "$running $((events & 1)) $((events >> 5 & 1))" "0 1 1"
expect "charger smoke register" "$(tcp_probe read 9 input 1 1)" 1
# Overheating ramps to 80 C in 10 s, like the leak.
overheated() { hot=$(tcp_probe read 9 input 0x126 1) && [ "$hot" -ge 750 ]; }
wait_until 15 overheated || fail "port 2 temperature ${hot:-no reply} (0.1 C), not overheating"
pass "port 2 overheated to $hot (0.1 C)"

calmed() { grep -q "leak.yaml:3: at 13000 ms: calm gas-b1 -> ok" "$WORK/sim.log"; }
wait_until 20 calmed || fail "the scenario's calm at 13 s was not logged"
calm=$(tcp_probe read 1 holding 0 2)
read -r gas status <<<"$calm"
[ "$gas" -le 20 ] && [ "$((status & 6))" = 0 ] || fail "gas-b1 after calm: $calm"
pass "gas-b1 calm again: $gas (0.1 %LEL), alarm bits clear"
stop_sim

printf -- '- { at_ms: 10, do: "hazard gas-b1 gas_leak" }\n- { at_ms: soon, do: "calm gas-b1" }\n' \
    >"$WORK/bad.yaml"
if "$SIM" -c "$WORK/site.yaml" --scenario "$WORK/bad.yaml" 2>"$WORK/bad.log"; then
    fail "a broken scenario was accepted"
fi
grep -q "bad.yaml:2:12: at_ms must be a whole number" "$WORK/bad.log" ||
    fail "no file:line:column in: $(cat "$WORK/bad.log")"
pass "broken scenario refused: $(grep bad.yaml "$WORK/bad.log")"
