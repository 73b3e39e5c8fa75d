#!/bin/bash
# One RS-485 line on a pty, four slaves of three kinds: a libmodbus master
# reads each slave id and gets that device's values; `set` values come back
# exactly; an address with no device stays silent; the line keeps working.
source "$(dirname "$0")/common.sh"
write_site
start_sim --seed 7

[ -L "$LINE" ] || fail "no symlink at $LINE"
pass "pty symlink $LINE -> $(readlink "$LINE")"

send "set gas-a1 gas_lel 12.3"
send "set gas-a2 gas_lel 4.5"
send "set gas-a2 temperature -3.5"
send "set lift-a3 floor 17"
send "set shed-a4 port3.temperature 41.2"

out=$(rtu_probe read 1 holding 0 1 read 2 holding 0 1 read 2 holding 6 1 read 3 input 3 1 \
      read 4 input 0x136 1)
expect "slave 1 gas_lel raw (12.3 %LEL / 0.1)" "$(sed -n 1p <<<"$out")" 123
expect "slave 2 gas_lel raw" "$(sed -n 2p <<<"$out")" 45
expect "slave 2 temperature raw (-3.5 C as int16)" "$(sed -n 3p <<<"$out")" $((65536 - 35))
expect "slave 3 floor" "$(sed -n 4p <<<"$out")" 17
expect "slave 4 port3 temperature raw" "$(sed -n 5p <<<"$out")" 412

# Plausible values straight from the profiles' maps.
read -r gas status fault life al1 al2 temp unit <<<"$(rtu_probe read 2 holding 0 8)"
[ "$life" -gt 1000 ] || fail "sensor life $life days is not thousands"
expect "gas alarm set points" "$al1/$al2" "100/250"
expect "gas alarm unit code" "$unit" 3
read -r count smoke mains cabinet <<<"$(rtu_probe read 4 input 0 4)"
expect "charger port count" "$count" 10
[ "$mains" -gt 2100 ] && [ "$mains" -lt 2350 ] || fail "mains ${mains} (0.1 V) implausible"
pass "charger mains $mains (0.1 V), cabinet $cabinet (0.1 C)"

# The gas alarm's own AL2 bit follows gas_lel against its set point.
send "set gas-a1 gas_lel 26"
status=$(rtu_probe read 1 holding 1 1)
expect "status AL1+AL2 bits at 26 %LEL" "$((status & 6))" 6

# Unknown address: silence, and the line still answers afterwards.
out=$(rtu_probe read 9 holding 0 1 read 1 holding 0 1 || true)
expect "unknown slave 9" "$(sed -n 1p <<<"$out")" timeout
expect "slave 1 after the silence" "$(sed -n 2p <<<"$out")" 260

# Writing coil 0 of a gas alarm closes its valve (status bit 4).
rtu_probe write-coil 2 0 1 >/dev/null
status=$(rtu_probe read 2 holding 1 1)
expect "valve_closed after close_valve coil" "$((status >> 4 & 1))" 1
# Coil 3 of the pile stops port 3: state 4 disabled, current 0.
rtu_probe write-coil 4 3 1 >/dev/null
read -r state volts current <<<"$(rtu_probe read 4 input 0x130 3)"
expect "port 3 state, current after stop" "$state $current" "4 0"

send "counters line-a" | grep -q "served=" || fail "no counters"
stop_sim
[ ! -e "$LINE" ] || fail "symlink $LINE left behind"
[ ! -e "$CONTROL" ] || fail "control socket left behind"
grep -q "bus line-a: 4 devices" "$WORK/sim.log" || fail "no per-bus counters on exit"
pass "symlink and socket removed, counters printed on exit"
