#!/bin/bash
# Under load the daemon never freezes and loses nothing. For 30 s (on a busy
# machine until the storm has its volume), 4 Modbus TCP converters x 10 gas
# alarms polled every 100 ms flip between clean air and a leak every ~50 ms,
# operators send thousands of commands in bursts, SIGHUP swaps the
# configuration every 5 s (adding and removing a device) and the CLI asks for
# the status every second. Afterwards, once the gas is gone: every
# command has exactly one result, every alarm raised is cleared, raised and
# cleared alternate for each alarm, seq has no gap, and every status query was
# answered. Outcomes are asserted, not timings; every wait has a deadline.
. "$(dirname "$0")/lib.sh"

STORM_S=${SAFETYGW_STORM_S:-30} # longer by hand: SAFETYGW_STORM_S=300
RELOAD_EVERY_S=5
STATUS_EVERY_S=1
GAS_FLIP_S=0.05
BURST_COMMANDS=50
BURST_EVERY_MS=250          # 120 bursts of 50: 6,000 commands in 30 s
MIN_COMMANDS=5000
SETTLE_S=90                 # after the storm: results, reloads and clears, slow (TSan) daemon included
ADDED=gas-1-11              # only in the second configuration
TOPIC_PREFIX="safetygw/test/gw-test"

DEVICES=()
for converter in 1 2 3 4; do
    for unit in $(seq 1 10); do DEVICES+=("gas-$converter-$unit"); done
done
DEVICES+=("$ADDED")
random_device() { echo "${DEVICES[RANDOM % ${#DEVICES[@]}]}"; }

# The shipped profiles, with chattering shelving off: the storm flips each gas
# reading every 2 s or so on purpose, and every raise and clear must go out
# (shelving is tested in test_alarm_management.sh).
profiles_without_chatter

# write_converters FILE [ADDED]: 4 converters of 10 gas alarms each (and ADDED,
# unit 11 on conv-1, if given).
write_converters() {
    local file=$1 added=${2:-} converter unit
    cat >"$file" <<SITE
gateway: { id: gw-test, site: test, state_dir: $WORK/state, control_socket: $WORK/control.sock,
           health_interval_ms: 2000 }
mqtt: { uri: "tcp://127.0.0.1:$BROKER_PORT", topic_prefix: $TOPIC_PREFIX, qos: 1 }
profiles: [ $PROFILES ]
buses:
SITE
    for converter in 1 2 3 4; do
        echo "  - { name: conv-$converter, type: tcp, host: 127.0.0.1," \
             "port: ${CONVERTER_PORTS[converter - 1]}, timeout_ms: 1000 }" >>"$file"
    done
    echo "devices:" >>"$file"
    for converter in 1 2 3 4; do
        for unit in $(seq 1 10); do
            echo "  - { id: gas-$converter-$unit, profile: gas-alarm, bus: conv-$converter," \
                 "address: $unit, poll_ms: 100, location: { building: \"$converter\", room: \"$unit\" } }" \
                >>"$file"
        done
    done
    [ -z "$added" ] || echo "  - { id: $added, profile: gas-alarm, bus: conv-1, address: 11," \
                            "poll_ms: 100, location: { building: \"1\", room: \"11\" } }" >>"$file"
}

# A slow subscriber or a slow daemon must not lose messages to the broker's
# per-client queue (1,000 by default): a loss here is then the daemon's.
cat >"$WORK/mosquitto.extra.conf" <<CONF
allow_anonymous true
max_queued_messages 100000
CONF
start_broker
CONVERTER_PORTS=()
while [ "$(printf '%s\n' "${CONVERTER_PORTS[@]}" | sort -u | wc -w)" -lt 4 ]; do
    CONVERTER_PORTS=("$(free_port)" "$(free_port)" "$(free_port)" "$(free_port)")
done
write_converters "$WORK/without-added.yaml"
write_converters "$WORK/with-added.yaml" "$ADDED"
start_sim "$WORK/with-added.yaml" --no-wire-delay # serves the added device too
cp "$WORK/without-added.yaml" "$WORK/site.yaml"

subscribe_live "$WORK/alarms.txt" "$TOPIC_PREFIX/alarm/#" -c -i "test-stress-$$"
subscribe_live "$WORK/results.txt" "$TOPIC_PREFIX/cmd-result/#"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 30 daemon_connected

# The daemon's command subscription is live once a probe command is answered.
probes=0
probe_answered() { grep -q "\"id\":\"probe-$probes\"" "$WORK/results.txt"; }
command_path_live() {
    probes=$((probes + 1))
    mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$TOPIC_PREFIX/cmd/gas-1-1" \
        -m "{\"id\":\"probe-$probes\",\"action\":\"self_test\"}"
    wait_until 5 probe_answered
}
check "the daemon answers commands before the storm" wait_until 60 command_path_live

# --- the storm: four loops, each over once $WORK/storm.over exists
storm_on() { [ ! -e "$WORK/storm.over" ]; }

# Gas of random devices to 0 or 30 %LEL (leak: gas_low, gas_high, AL1, AL2), one
# control connection to the simulator.
flip_gas() {
    while storm_on; do
        echo "set $(random_device) gas_lel $((RANDOM % 2 * 30))"
        sleep "$GAS_FLIP_S" # the storm's pace, not a wait for anything
    done
}

now_us() { echo "${EPOCHREALTIME/./}"; }

# sleep_until_us T: sleeps until now_us reaches T (at once if it has).
sleep_until_us() {
    local wait_us=$(($1 - $(now_us)))
    [ "$wait_us" -le 0 ] || sleep "$((wait_us / 1000000)).$(printf '%06d' $((wait_us % 1000000)))"
}

# Bursts of BURST_COMMANDS commands with unique ids to a random device, every
# BURST_EVERY_MS (at once when behind); "ID DEVICE" of each in sent.txt.
send_commands() {
    local burst=0 next=0 start_us device first
    start_us=$(now_us)
    while storm_on; do
        sleep_until_us $((start_us + burst * BURST_EVERY_MS * 1000))
        device=$(random_device)
        first=$((next + 1))
        next=$((next + BURST_COMMANDS))
        for id in $(seq "$first" "$next"); do echo "s-$id $device"; done >>"$WORK/sent.txt"
        for id in $(seq "$first" "$next"); do echo "{\"id\":\"s-$id\",\"action\":\"self_test\"}"; done |
            mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$TOPIC_PREFIX/cmd/$device" -l \
                2>>"$WORK/pub.log" || echo "s-$first..s-$next" >>"$WORK/unpublished.txt"
        burst=$((burst + 1))
    done
}

# SIGHUP every RELOAD_EVERY_S, alternating the configuration with and without
# the added device (renamed into place: the daemon never reads half a file).
reload_often() {
    local reloads=0
    while sleep "$RELOAD_EVERY_S" && storm_on; do
        reloads=$((reloads + 1))
        if [ $((reloads % 2)) = 1 ]; then
            cp "$WORK/with-added.yaml" "$WORK/next.yaml"
        else
            cp "$WORK/without-added.yaml" "$WORK/next.yaml"
        fi
        mv "$WORK/next.yaml" "$WORK/site.yaml"
        kill -HUP "$DAEMON_PID" 2>/dev/null || break # gone: the checks below say so
        echo "$reloads" >>"$WORK/reloads.txt"
    done
}

# safetygw status --json every STATUS_EVERY_S: "answered" or "unanswered: why".
ask_status() {
    local asked=0 answer
    while storm_on; do
        asked=$((asked + 1))
        # the CLI gives up after 10 s itself; timeout is for a CLI that would not
        if answer=$(timeout 20 "$CLI" status --json --socket "$WORK/control.sock" 2>>"$WORK/cli.log") &&
            json_is '.ok == true and .gateway == "gw-test"' <<<"$answer"; then
            echo "$asked answered" >>"$WORK/status.txt"
        else
            echo "$asked unanswered at ${SECONDS}s: $(tail -n 1 "$WORK/cli.log")" >>"$WORK/status.txt"
        fi
        sleep "$STATUS_EVERY_S" # the storm's pace, not a wait for anything
    done
}

for file in sent reloads status unpublished; do : >"$WORK/$file.txt"; done
storm_started=$SECONDS
flip_gas | socat -t 2 - "UNIX-CONNECT:$SIM_SOCKET" >"$WORK/flips.txt" 2>>"$WORK/socat.log" &
flipper=$!
send_commands &
sender=$!
reload_often &
reloader=$!
ask_status &
asker=$!
PIDS="$PIDS $flipper $sender $reloader $asker"
# The storm lasts STORM_S, and on a machine too busy to send its volume (the
# first checks below) in that time, until it has, for at most twice as long.
storm_done() {
    [ $((SECONDS - storm_started)) -ge "$STORM_S" ] &&
        [ "$(wc -l <"$WORK/sent.txt")" -ge "$MIN_COMMANDS" ] &&
        [ "$(grep -c "^ok .* gas_lel = " "$WORK/flips.txt")" -ge $((STORM_S * 10)) ]
}
wait_until $((2 * STORM_S)) storm_done || true
touch "$WORK/storm.over"
wait "$flipper" "$sender" "$reloader" "$asker" || true

# --- what the storm did (if it did not, the assertions below prove nothing)
sent=$(wc -l <"$WORK/sent.txt")
flips=$(grep -c "^ok .* gas_lel = " "$WORK/flips.txt" || true)
sighups=$(wc -l <"$WORK/reloads.txt")
echo "storm of $((SECONDS - storm_started)) s: $sent commands, $flips gas changes, $sighups SIGHUPs, $(wc -l <"$WORK/status.txt") status queries"
check "at least $MIN_COMMANDS commands were sent" test "$sent" -ge "$MIN_COMMANDS"
check "every burst reached the broker" test ! -s "$WORK/unpublished.txt"
check "the gas changed at least $((STORM_S * 10)) times (every 100 ms of STORM_S)" test "$flips" -ge $((STORM_S * 10))
check "the configuration was swapped every $RELOAD_EVERY_S s" test "$sighups" -ge $((STORM_S / RELOAD_EVERY_S - 1))

# --- the gas goes, then the daemon is given until settle_end to catch up
printf 'set %s gas_lel 0\n' "${DEVICES[@]}" | socat -t 5 - "UNIX-CONNECT:$SIM_SOCKET" >"$WORK/calm.txt" 2>>"$WORK/socat.log"
check "the simulator took the end of every leak" test "$(grep -c "^ok " "$WORK/calm.txt")" -eq ${#DEVICES[@]}
settle_end=$((SECONDS + SETTLE_S))
if ! running_child "$DAEMON_PID"; then
    fail "the daemon died during the storm"
    settle_end=$SECONDS # nothing more will come: judge what arrived
fi
left() { local s=$((settle_end - SECONDS)); echo $((s > 0 ? s : 0)); }

reloads_applied() { [ "$(grep -c "reloaded .*: [0-9]* devices kept" "$WORK/daemon.log")" -ge "$sighups" ]; }
check "every SIGHUP was applied" wait_until "$(left)" reloads_applied
results_in() { [ "$(grep -c '"id":"s-' "$WORK/results.txt")" -ge "$sent" ]; }
check "as many command results as commands arrive" wait_until "$(left)" results_in
as_many_clears_as_raises() {
    [ "$(grep -c '"event":"raised"' "$WORK/alarms.txt")" -eq \
      "$(grep -c '"event":"cleared"' "$WORK/alarms.txt")" ]
}
check "as many clears as raises arrive once the gas is gone" wait_until "$(left)" as_many_clears_as_raises
every_event_arrived() { [ "$(grep -c '"seq":' "$WORK/alarms.txt")" -ge "$(logged_events)" ]; }
check "every event the daemon logged arrives" wait_until "$(left)" every_event_arrived

# --- commands: exactly one result each, on its device's topic
awk -v prefix="$TOPIC_PREFIX/cmd-result/" 'index($1, prefix) == 1 {
        print substr($1, length(prefix) + 1) "\t" substr($0, length($1) + 2) }' "$WORK/results.txt" |
    jq -R -r 'split("\t") | (.[1] | try fromjson catch {}) as $r |
              select($r.id // "" | tostring | startswith("s-")) |
              "\($r.id) \(.[0]) \(if $r.ok then "ok" else $r.error end)"' >"$WORK/answers.txt"
echo "results, by kind:"
cut -d' ' -f3- "$WORK/answers.txt" | sed 's/[0-9]\+/N/g' | sort | uniq -c | sort -rn
cut -d' ' -f1,2 "$WORK/answers.txt" | sort >"$WORK/answered.txt"
sort "$WORK/sent.txt" >"$WORK/sent.sorted"
unanswered=$(comm -23 "$WORK/sent.sorted" "$WORK/answered.txt" | wc -l)
answered_twice=$(cut -d' ' -f1 "$WORK/answered.txt" | sort | uniq -d | wc -l)
unknown=$(comm -13 "$WORK/sent.sorted" <(uniq "$WORK/answered.txt") | wc -l)
echo "unanswered: $unanswered ($(comm -23 "$WORK/sent.sorted" "$WORK/answered.txt" | head -3 | paste -sd ' '))"
check "every command has a result" test "$unanswered" -eq 0
check "no command has two results" test "$answered_twice" -eq 0
check "every result answers a command sent, on its device's topic" test "$unknown" -eq 0

# --- alarms: seq gapless, raised and cleared alternate, all cleared at the end
grep "^$TOPIC_PREFIX/alarm/[^ ]* {" "$WORK/alarms.txt" | cut -d' ' -f2- |
    jq -R -c 'try fromjson catch {} | select(.seq) | {seq, device, alarm, event}' >"$WORK/events.json"
events=$(wc -l <"$WORK/events.json")
echo "alarm events: $events, $(grep -c '"event":"raised"' "$WORK/events.json" || true) raised," \
     "$(grep -c "\"device\":\"$ADDED\"" "$WORK/events.json" || true) of the added device"
check "the storm raised and cleared alarms" test "$events" -ge 100
seqs=$(jq .seq "$WORK/events.json" | sort -n)
check "seq runs from 1 to the last event without a gap or a repeat" test "$seqs" = "$(seq 1 "$events")"
jq -s -r 'group_by(.device, .alarm)[] | sort_by(.seq) |
          (.[0].device + " " + .[0].alarm) as $name |
          (range(1; length) as $i | select(.[$i].event == .[$i - 1].event) |
              "twice \($name): \(.[$i].event) at seq \(.[$i - 1].seq) and \(.[$i].seq)"),
          (select(.[0].event != "raised") | "first \($name): \(.[0].event) at seq \(.[0].seq)"),
          (select(.[-1].event != "cleared") | "active \($name): raised at seq \(.[-1].seq)")' \
    "$WORK/events.json" >"$WORK/misordered.txt"
head -5 "$WORK/misordered.txt"
check "no alarm is raised (or cleared) twice in a row" bash -c "! grep -q '^twice' '$WORK/misordered.txt'"
check "each alarm's first event is its raise" bash -c "! grep -q '^first' '$WORK/misordered.txt'"
check "every alarm raised is cleared once the gas is gone" bash -c "! grep -q '^active' '$WORK/misordered.txt'"

# --- the crew's view stayed up
asked=$(wc -l <"$WORK/status.txt")
grep unanswered "$WORK/status.txt" | head -5
check "the status was asked about every second ($asked times)" test "$asked" -ge $((STORM_S / 2))
check "every status query was answered" bash -c "! grep -q unanswered '$WORK/status.txt'"

daemon_stopped() { ! running_child "$DAEMON_PID"; }
kill -TERM "$DAEMON_PID" 2>/dev/null || true
check "SIGTERM stops the daemon" wait_until 20 daemon_stopped
! daemon_stopped || check "with exit 0" wait "$DAEMON_PID"
finish
