#!/bin/bash
# Strict RS-485 framing (the default): a request that starts sooner than t3.5
# after the last frame on the line is glued to that frame by every slave, so
# it is lost and counted as `merged`. A master that keeps t3.5 loses nothing;
# --lenient takes the hasty request anyway (the simulator's old behaviour).
# The line runs at 1200 baud, where t3.5 is 29 ms: a request sent at once after
# a reply comes well inside it, however late the simulator gets to read it.
source "$(dirname "$0")/common.sh"
write_site
sed -i 's/baud: 9600/baud: 1200/' "$WORK/site.yaml"
merged() { send "counters line-a" | sed -n 's/.* merged=\([0-9]*\).*/\1/p'; }
rtu_probe() { "$PROBE" --timeout-ms 1000 rtu "$LINE" 1200 N 8 1 "$@"; }
# hasty ARGS... — sim_probe without the t3.5 wait before its requests
hasty() { "$PROBE" --timeout-ms 1000 --no-silence rtu "$LINE" 1200 N 8 1 "$@"; }

start_sim
send "set gas-a1 gas_lel 1.1"
send "set gas-a2 gas_lel 2.2"
out=$(rtu_probe read 1 holding 0 1 read 2 holding 0 1 read 1 holding 0 1 read 2 holding 0 1)
expect "a master keeping t3.5: four reads back to back" "$(tr '\n' ' ' <<<"$out")" "11 22 11 22 "
expect "nothing merged" "$(merged)" 0

# The first read comes after a long silence; the second right on the heels of its reply.
out=$(hasty sleep 100 read 1 holding 0 1 read 2 holding 0 1 || true)
expect "hasty master: the first read" "$(sed -n 1p <<<"$out")" 11
expect "hasty master: the read sent within t3.5 of the reply is lost" "$(sed -n 2p <<<"$out")" \
    timeout
[ "$(merged)" -ge 1 ] || fail "the lost request was not counted as merged"
pass "merged=$(merged)"
out=$(rtu_probe read 2 holding 0 1)
expect "the line works again for a master that waits" "$out" 22
stop_sim

start_sim --lenient
send "set gas-a1 gas_lel 1.1"
send "set gas-a2 gas_lel 2.2"
out=$(hasty sleep 100 read 1 holding 0 1 read 2 holding 0 1 read 1 holding 0 1)
expect "--lenient: the hasty master's reads are all answered" "$(tr '\n' ' ' <<<"$out")" \
    "11 22 11 "
expect "--lenient: nothing merged" "$(merged)" 0
grep -q "t3.5 lenient" "$WORK/sim.log" || fail "the ready line does not say lenient"
pass "ready line says t3.5 lenient"
