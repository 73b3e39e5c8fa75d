#!/bin/bash
# SIGHUP reloads the configuration touching only what changed: a device is
# added and another removed while the rest keep polling and keep their active
# alarms; a broken file, or one that changes the mqtt section, is refused and
# the running configuration stays.
. "$(dirname "$0")/lib.sh"

start_broker
write_site "$WORK/full.yaml" 4             # what the simulator serves: gas-1..4
start_sim "$WORK/full.yaml" --no-wire-delay
grep -v "id: gas-4," "$WORK/full.yaml" >"$WORK/site.yaml"  # the daemon starts without gas-4
subscribe "$WORK/mqtt.txt" "$TOPIC_PREFIX/#"
start_daemon "$WORK/site.yaml"
check "daemon connects" wait_until 10 daemon_connected

sim hazard gas-1 gas_leak >/dev/null
check "gas-1 raises gas_high before the reload" wait_until 20 has_event "$WORK/mqtt.txt" gas-1 gas_high raised
raised_at=$(events "$WORK/mqtt.txt" gas-1 gas_high raised | jq -r .raised_at)

# New file: gas-4 added, gas-3 removed, gas-2's location edited.
grep -v "id: gas-3," "$WORK/full.yaml" | sed 's/room: "102"/room: "102A"/' >"$WORK/site.yaml"
kill -HUP "$DAEMON_PID"
reloaded() { grep -q "reloaded .*1 edited, 1 added, 1 removed" "$WORK/daemon.log"; }
check "reload applies: 1 added, 1 removed, 1 edited" wait_until 10 reloaded
gas4_state() { grep -q "^$TOPIC_PREFIX/device/gas-4/state .*\"online\":true" "$WORK/mqtt.txt"; }
check "the added device is polled" wait_until 10 gas4_state
# mosquitto_sub -v shows an empty payload as "(null)"
removed_state() { grep -qF "$TOPIC_PREFIX/device/gas-3/state (null)" "$WORK/mqtt.txt"; }
check "the removed device's retained state is deleted" wait_until 10 removed_state
# A reload that lost gas-1's alarm state would raise gas_high again, or clear
# it, at the new bus thread's first poll of gas-1, the gas still there: wait
# for two polls since the reload (counters carry over a reload), then let the
# gas go. Whatever that first poll sent reaches the subscriber before the clear.
polls_ok() { "$CLI" --socket "$WORK/control.sock" device gas-1 --json | jq -r '.device.stats.polls_ok // -1'; }
polls_at_reload=$(polls_ok)
polled_since_reload() { [ "$(polls_ok)" -ge $((${polls_at_reload:--1} + 2)) ]; }
check "gas-1 is polled after the reload" wait_until 20 polled_since_reload
sim calm gas-1 >/dev/null
check "gas-1 clears when the gas is gone" wait_until 20 has_event "$WORK/mqtt.txt" gas-1 gas_high cleared
check "gas-1's alarm survives the reload (not raised again)" \
    test "$(events "$WORK/mqtt.txt" gas-1 gas_high raised | wc -l)" -eq 1
check "and is not cleared by it: one clear, the gas going" \
    json_is 'length == 1 and .[0].reason == null' <<<"$(events "$WORK/mqtt.txt" gas-1 gas_high cleared | jq -s .)"
check "the clear still names the original raise time" \
    test "$(events "$WORK/mqtt.txt" gas-1 gas_high cleared | jq -r .raised_at)" = "$raised_at"
sim hazard gas-4 gas_leak >/dev/null
check "the added device raises alarms" wait_until 20 has_event "$WORK/mqtt.txt" gas-4 gas_high raised

# A broken file is refused and changes nothing.
cp "$WORK/site.yaml" "$WORK/good.yaml"
sed -i 's/timeout_ms: 200/timeout_ms: 200, baudrate: 9600/' "$WORK/site.yaml"
kill -HUP "$DAEMON_PID"
refused() { grep -q "reload: .*site.yaml: 1 error; reload refused, the running configuration stays" "$WORK/daemon.log"; }
check "a broken configuration is refused" wait_until 10 refused
check "with the error and its line" grep -q "reload: .*site.yaml:[0-9]*:[0-9]*: unknown key \"baudrate\"" "$WORK/daemon.log"
sim hazard lift-1 trapped >/dev/null
check "the running configuration keeps working" wait_until 10 has_event "$WORK/mqtt.txt" lift-1 trapped raised

# The northbound side cannot change without a restart.
sed "s/topic_prefix: [^ ,}]*/topic_prefix: elsewhere/" "$WORK/good.yaml" >"$WORK/site.yaml"
kill -HUP "$DAEMON_PID"
northbound() { grep -q "reload refused: the gateway or mqtt section" "$WORK/daemon.log"; }
check "a change to the mqtt section asks for a restart" wait_until 10 northbound

# The unit gives a stop TimeoutStopSec=10 before SIGKILL: the wait's deadline.
kill -TERM "$DAEMON_PID"
check "SIGTERM: the daemon exits before systemd would kill it" wait_until 10 exited "$DAEMON_PID"
check "with status 0" wait "$DAEMON_PID"
finish
