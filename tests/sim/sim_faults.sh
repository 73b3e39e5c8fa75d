#!/bin/bash
# Every fault the control socket can inject, on the RTU line and on the TCP
# converter, as a libmodbus master sees it — and heal restoring each.
# The line's timeout_ms is 300, so a `slow` reply comes 600 ms late; the
# probe waits 400 ms.
source "$(dirname "$0")/common.sh"
write_site
start_sim --seed 3

send "set gas-a1 gas_lel 1.1"
send "set gas-a2 gas_lel 2.2"
send "set gas-b1 gas_lel 3.3"

# silent: that slave times out, its neighbour on the line does not.
send "fault gas-a1 silent"
out=$(rtu_probe read 1 holding 0 1 read 2 holding 0 1 || true)
expect "silent slave 1" "$(sed -n 1p <<<"$out")" timeout
expect "slave 2 beside it" "$(sed -n 2p <<<"$out")" 22
send "heal gas-a1"
expect "slave 1 healed" "$(rtu_probe read 1 holding 0 1)" 11

# bad_crc: libmodbus reports EMBBADCRC.
send "fault gas-a2 bad_crc"
expect "bad_crc slave 2" "$(rtu_probe read 2 holding 0 1 || true)" bad_crc
send "heal gas-a2"
expect "slave 2 healed" "$(rtu_probe read 2 holding 0 1)" 22

# slow: the reply comes after the bus timeout (a patient master still gets it).
send "fault gas-a1 slow"
expect "slow slave 1, 400 ms timeout" "$(rtu_probe read 1 holding 0 1 || true)" timeout
# The late reply (7 bytes: address, function, count, a register, CRC) lands on the
# line after the probe gave up; taking it off the line is the flush.
late_reply() { timeout 5 head -c 7 <"$LINE" | wc -c; }
expect "the late reply lands on the line" "$(late_reply)" 7
expect "slow slave 1, 1500 ms timeout" "$(PROBE_TIMEOUT_MS=1500 rtu_probe read 1 holding 0 1)" 11
send "heal gas-a1"
expect "slave 1 healed" "$(rtu_probe read 1 holding 0 1)" 11

# exception: code 4 (server device failure) unless given.
send "fault gas-a2 exception"
expect "exception default" "$(rtu_probe read 2 holding 0 1 || true)" "exception 4"
send "fault gas-a2 exception 6"
expect "exception 6 (busy)" "$(rtu_probe read 2 holding 0 1 || true)" "exception 6"
send "heal gas-a2"
expect "slave 2 healed" "$(rtu_probe read 2 holding 0 1)" 22

# bus down: every slave of the line is silent; the converter is unaffected.
send "fault bus line-a down"
out=$(rtu_probe read 1 holding 0 1 read 2 holding 0 1 read 3 input 0 1 || true)
expect "line-a down" "$(tr '\n' ' ' <<<"$out")" "timeout timeout timeout "
expect "conv-b while line-a is down" "$(tcp_probe read 1 holding 0 1)" 33
send "heal bus line-a"
expect "line-a healed" "$(rtu_probe read 1 holding 0 1 read 2 holding 0 1 | tr '\n' ' ')" "11 22 "

# The same faults behind the TCP converter.
send "fault gas-b1 silent"
expect "tcp silent unit 1" "$(tcp_probe read 1 holding 0 1 || true)" timeout
send "fault gas-b1 exception 2"
expect "tcp exception unit 1" "$(tcp_probe read 1 holding 0 1 || true)" "exception 2"
send "fault gas-b1 bad_crc"
expect "tcp garbled reply (wrong transaction id)" "$(tcp_probe read 1 holding 0 1 || true)" \
    bad_data
send "fault gas-b1 slow"
expect "tcp slow unit 1" "$(tcp_probe read 1 holding 0 1 || true)" timeout
send "heal gas-b1"
send "fault bus conv-b down"
expect "conv-b down" "$(tcp_probe read 5 holding 0 1 || true)" timeout
send "heal bus conv-b"
expect "conv-b healed" "$(tcp_probe read 1 holding 0 1)" 33

# Counters saw the silences.
ignored=$(send "counters gas-a1" | sed -n 's/.* ignored=\([0-9]*\).*/\1/p')
[ "$ignored" -ge 2 ] || fail "gas-a1 ignored $ignored requests, expected >= 2"
pass "gas-a1 counted $ignored ignored requests"
