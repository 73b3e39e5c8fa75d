#!/bin/bash
# safetygw watch against mosquitto, with events published by hand: lines as the
# demo prints them, a skipped seq reported as a gap, a repeated one as a
# duplicate, events published while watch is down delivered when it comes
# back (persistent session), and --share subscribing through $share.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_city.sh"

printf 'allow_anonymous true\nlog_type all\n' >"$WORK/mosquitto.extra.conf"
start_broker
event() { # GATEWAY SEQ EVENT
    printf '{"gateway":"%s","seq":%d,"event":"%s","alarm":"gas_high","severity":"critical","device":"gas-1","kind":"gas_alarm","location":{"compound":"长寿新村","building":"12","room":"301"},"point":"gas_lel","value":27.5,"threshold":25,"unit":"%%LEL","raised_at":"2026-11-27T08:00:01.250Z","ts":"2026-11-27T08:00:01.250Z"}' "$1" "$2" "$3"
}
publish() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "safetygw/test/$1/alarm/gas-1" -m "$(event "$@")"; }
start_watch() {
    "$CLI" watch --broker "tcp://127.0.0.1:$BROKER_PORT" "$@" \
        >>"$WORK/watch.txt" 2>>"$WORK/watch.log" &
    WATCH_PID=$!
    PIDS="$PIDS $WATCH_PID"
    subscribed() { [ "$(grep -c "safetygw watch: connected to" "$WORK/watch.log")" -ge "$1" ]; }
}
stop_watch() { kill -TERM "$WATCH_PID"; WATCH_STATUS=0; wait "$WATCH_PID" || WATCH_STATUS=$?; }
lines() { grep -c "$1" "$WORK/watch.txt" || true; }

start_watch --client-id test-watch
check "watch connects" wait_until 10 subscribed 1
# mosquitto logs "CLIENT QOS TOPIC" (log_type all) once it has added the subscription.
at_broker() { grep -qF "$1" "$WORK/mosquitto.log"; }
check "its subscription is live at the broker" wait_until 10 at_broker "test-watch 1 safetygw/+/+/alarm/#"
publish gw-a 1 raised
publish gw-a 2 cleared
publish gw-a 4 raised
publish gw-a 4 raised
publish gw-b 7 raised
seen() { [ "$(lines "$1")" -ge "$2" ]; }
check "events are printed with gateway and seq" wait_until 10 seen "gw-a #2  CLEARED  critical  gas_high  gas-1  长寿新村/12/301  gas_lel=27.5%LEL" 1
check "a skipped seq is a gap naming what is missing" wait_until 10 seen "GAP        gw-a: #3..#3 missing" 1
check "a repeated seq is a duplicate, dropped" wait_until 10 seen "DUPLICATE  gw-a #4 seen before" 1
check "each gateway has its own numbers" wait_until 10 seen "gw-b #7  RAISED" 1
stop_watch
check "watch exits 1: a gap is still open" test "$WATCH_STATUS" -eq 1
check "and says so in its summary" grep -q "gw-a: 3 events, seq 1..4, 1 duplicates, 1 missing" "$WORK/watch.log"

publish gw-a 5 raised   # while watch is down: kept in its session
start_watch --client-id test-watch
check "watch connects again" wait_until 10 subscribed 2
check "an event published while it was down arrives" wait_until 10 seen "gw-a #5  RAISED" 1
stop_watch

start_watch --client-id test-watch-shared --share consoles --json
check "watch connects with a shared subscription" wait_until 10 subscribed 3
check "through \$share/consoles/..." wait_until 10 at_broker 'test-watch-shared 1 $share/consoles/safetygw/+/+/alarm/#'
publish gw-c 10 raised
publish gw-c 12 raised
json_seen() { grep '^{' "$WORK/watch.txt" | json_is 'select(.type == "event" and .gateway == "gw-c" and .seq == 12)' 2>/dev/null; }
check "shared: events arrive as JSON lines" wait_until 10 json_seen
check "shared: no gap reported (a member sees a part of each stream)" bash -c "! grep -q '\"type\":\"gap\"' '$WORK/watch.txt'"
stop_watch
finish
