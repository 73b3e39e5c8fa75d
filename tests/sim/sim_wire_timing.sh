#!/bin/bash
# A pty line takes the time a real RS-485 line would: the median of 20
# back-to-back reads is never shorter than 90 % of
#   (request + reply bytes) x bits per char / baud + 2 x t3.5 + reply latency
# at 9600 8N1 (t3.5 = 3.5 chars) and 38400 8E1 (t3.5 = 1.75 ms); and with
# --no-wire-delay a read takes less than half of what the wire would. A busy
# machine only ever lengthens a read, so only these bounds are asserted; how
# close to the computed time each median is gets printed (the benchmark's wire
# figure, bench/run, is where closeness counts). The simulator runs --lenient
# and the master sends each request at once (--no-silence): the request then
# waits on the line for its t3.5, and the period measured is the line's alone
# (strict framing: sim_rtu_silence.sh).
source "$(dirname "$0")/common.sh"
FAST_LINE="$WORK/dev/line-fast"
LINE="$WORK/dev/line-slow"
cat >"$WORK/site.yaml" <<YAML
gateway: { id: sim-timing }
mqtt: { uri: "tcp://127.0.0.1:1883" }
profiles: [ $PROFILES ]
buses:
  - { name: slow, type: rtu, port: $LINE, baud: 9600, parity: N, data_bits: 8, stop_bits: 1 }
  - { name: fast, type: rtu, port: $FAST_LINE, baud: 38400, parity: E, data_bits: 8,
      stop_bits: 1 }
devices:
  - { id: gas-1, profile: gas-alarm, bus: slow, address: 1 }
  - { id: lift-2, profile: elevator, bus: slow, address: 2 }
  - { id: gas-3, profile: gas-alarm, bus: fast, address: 3 }
YAML

# expected_ms BAUD BITS_PER_CHAR REQUEST_BYTES REPLY_BYTES LATENCY_MS
expected_ms() {
    awk -v baud="$1" -v bits="$2" -v req="$3" -v rsp="$4" -v latency="$5" 'BEGIN {
        char = bits * 1000 / baud
        t35 = baud <= 19200 ? 3.5 * char : 1.75
        printf "%.3f", (req + rsp) * char + 2 * t35 + latency }'
}

# check WHAT MEASURED EXPECTED: the line is not faster than the wire (90 %).
check() {
    local ratio
    ratio=$(awk -v m="$2" -v e="$3" 'BEGIN { printf "%.2f", m / e }')
    awk -v m="$2" -v e="$3" 'BEGIN { exit !(m >= 0.9 * e) }' ||
        fail "$1: median $2 ms, computed $3 ms: faster than the wire"
    pass "$1: median $2 ms, computed $3 ms ($ratio of it)"
}

rtu_probe() { "$PROBE" --timeout-ms 400 --no-silence rtu "$LINE" 9600 N 8 1 "$@"; }
# quietest COMMAND...: the lowest of 3 medians. A busy machine only ever delays a
# reply, so the quietest try measures the line's own time.
quietest() { for _ in 1 2 3; do "$@"; done | sort -g | sed -n 1p; }
start_sim --lenient --latency-ms 10
# FC03 of 8 registers: request 8 bytes, reply 5 + 16 = 21.
check "9600 8N1, 8 holding registers" "$(quietest rtu_probe time 1 holding 0 8 20)" \
    "$(expected_ms 9600 10 8 21 10)"
# FC04 of 11 registers: request 8 bytes, reply 5 + 22 = 27.
check "9600 8N1, 11 input registers" "$(quietest rtu_probe time 2 input 0 11 20)" \
    "$(expected_ms 9600 10 8 27 10)"
check "38400 8E1, 8 holding registers" \
    "$(quietest "$PROBE" --no-silence rtu "$FAST_LINE" 38400 E 8 1 time 3 holding 0 8 20)" \
    "$(expected_ms 38400 11 8 21 10)"
stop_sim

start_sim --lenient --latency-ms 25
check "9600 8N1, latency 25 ms" "$(quietest rtu_probe time 1 holding 0 8 20)" \
    "$(expected_ms 9600 10 8 21 25)"
stop_sim

start_sim --no-wire-delay
fast=$(quietest rtu_probe time 1 holding 0 8 20)
wire=$(expected_ms 9600 10 8 21 0)
if [ -n "$fast" ] && awk -v m="$fast" -v w="$wire" 'BEGIN { exit !(m < w / 2) }'; then
    pass "--no-wire-delay: median $fast ms, the wire would take $wire ms"
else
    fail "--no-wire-delay: median $fast ms, not under half of the wire's $wire ms"
fi
