#!/bin/bash
# A Modbus TCP converter: every unit id of its bus answers with that device's
# values, an unknown unit id gets exception 0x0B (gateway target failed to
# respond), and several clients are served at the same time.
source "$(dirname "$0")/common.sh"
write_site
start_sim --no-wire-delay

send "set gas-b1 gas_lel 7.7"
send "set gas-b5 gas_lel 21.4"
send "set lift-b7 run_count 123456789"
send "set shed-b9 port9.current 2750"

out=$(tcp_probe read 1 holding 0 1 read 5 holding 0 1 read 7 input 9 2 read 9 input 0x192 1)
expect "unit 1 gas_lel raw" "$(sed -n 1p <<<"$out")" 77
expect "unit 5 gas_lel raw" "$(sed -n 2p <<<"$out")" 214
expect "unit 7 run_count, high word first" "$(sed -n 3p <<<"$out")" \
    "$((123456789 >> 16)) $((123456789 & 65535))"
expect "unit 9 port9 current mA" "$(sed -n 4p <<<"$out")" 2750
expect "get reads the same value back" "$(send 'get shed-b9 port9.current')" "ok 2750"

# Units of the RTU line are not behind this converter.
expect "unknown unit 3" "$(tcp_probe read 3 holding 0 1 || true)" "exception 11"

# Four clients at once, 200 reads each, every one answered with its unit's value.
clients=()
for client in 1 2 3 4; do
    args=()
    for _ in $(seq 100); do args+=(read 1 holding 0 1 read 5 holding 0 1); done
    tcp_probe "${args[@]}" >"$WORK/client$client.out" &
    clients+=($!)
done
wait "${clients[@]}" || fail "a client failed"
for client in 1 2 3 4; do
    [ "$(grep -c '^77$' "$WORK/client$client.out")" = 100 ] &&
        [ "$(grep -c '^214$' "$WORK/client$client.out")" = 100 ] ||
        fail "client $client: $(sort "$WORK/client$client.out" | uniq -c)"
done
pass "4 concurrent clients x 200 reads all answered correctly"

served=$(send "counters conv-b" | sed -n 's/.* served=\([0-9]*\).*/\1/p')
[ "$served" -ge 805 ] || fail "conv-b served $served requests, expected >= 805"
pass "conv-b counted $served requests"
