#!/bin/bash
# One root cause, not its echoes: a bus that goes silent as a whole raises one
# bus_down on P/alarm/<bus> and no offline alarm per device; when it answers
# again every device is polled at once and bus_down clears. A single silent
# device, or one its converter answers for with exception 11, still gets its
# own offline.
. "$(dirname "$0")/lib.sh"

GAS=6
start_broker
write_site "$WORK/site.yaml" "$GAS" 500
start_sim "$WORK/site.yaml" --no-wire-delay
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/#"
start_daemon "$WORK/site.yaml"

# state DEVICE: the newest retained state payload of the device.
state() {
    awk -v t="$TOPIC_PREFIX/device/$1/state" '$1 == t { $1 = ""; line = substr($0, 2) } END { print line }' \
        "$WORK/mqtt.txt"
}
every_gas() { # every_gas JQ-FILTER: the filter holds for the newest state of every gas alarm
    local i
    for i in $(seq 1 "$GAS"); do json_is "$1" <<<"$(state "gas-$i")" || return 1; done
}
count_events() { events "$WORK/mqtt.txt" "$1" "$2" "$3" | wc -l; }
no_gas_offline_events() {
    local i
    for i in $(seq 1 "$GAS"); do
        [ "$(count_events "gas-$i" offline raised)" -eq 0 ] || return 1
        [ "$(count_events "gas-$i" offline cleared)" -eq 0 ] || return 1
    done
}

check "every gas alarm comes online" wait_until 20 every_gas '.online == true'

sim fault bus bldg-1 down >/dev/null
check "a silent bus raises bus_down" wait_until 20 has_event "$WORK/mqtt.txt" bldg-1 bus_down raised
raised=$(events "$WORK/mqtt.txt" bldg-1 bus_down raised | head -n 1)
check "bus_down names the bus and its port" json_is ".bus == \"bldg-1\" and (.port | endswith(\"/bldg-1\"))" <<<"$raised"
check "bus_down counts the devices it stands for" json_is ".devices == $GAS and .severity == \"major\"" <<<"$raised"
check "bus_down names the locations they span" \
    json_is '.locations == [{"compound":"长寿新村","building":"1"}]' <<<"$raised"
check "the devices show offline, suppressed by bus_down" \
    wait_until 30 every_gas '.online == false and .suppressed_by == "bus_down" and .stale == true'
check "no device raised its own offline" no_gas_offline_events

sim heal bus bldg-1 >/dev/null
check "bus_down clears when the bus answers" wait_until 30 has_event "$WORK/mqtt.txt" bldg-1 bus_down cleared
check "every device is back online" wait_until 10 every_gas '.online == true and (has("suppressed_by") | not)'
check "the clear names the same places" \
    json_is '.locations == [{"compound":"长寿新村","building":"1"}] and .devices == '"$GAS" \
    <<<"$(events "$WORK/mqtt.txt" bldg-1 bus_down cleared | head -n 1)"
check "exactly one bus_down raised" test "$(count_events bldg-1 bus_down raised)" -eq 1
check "exactly one bus_down cleared" test "$(count_events bldg-1 bus_down cleared)" -eq 1
check "and still no device offline event" no_gas_offline_events

sim fault gas-3 silent >/dev/null
check "one silent device still gets its own offline" \
    wait_until 20 has_event "$WORK/mqtt.txt" gas-3 offline raised
check "and no bus_down" test "$(count_events bldg-1 bus_down raised)" -eq 1

# The converter answers for lift-1 with "gateway target failed to respond" while
# ebike-1 behind it answers: that is the device, not the converter.
sim fault lift-1 exception 11 >/dev/null
check "a device its converter cannot reach gets its own offline" \
    wait_until 20 has_event "$WORK/mqtt.txt" lift-1 offline raised
check "and the converter raises no bus_down" test "$(count_events conv-1 bus_down raised)" -eq 0
finish
