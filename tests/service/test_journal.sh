#!/bin/bash
# Under systemd the daemon's lines reach journald as entries with the fields a crew
# filters on: `journalctl SAFETYGW_DEVICE=gas-1` finds "device gas-1 is online", then
# "... offline". systemd is not PID 1 here, so the test runs a journald of its own in
# a private mount namespace (tmpfs over /run/systemd, /run/log and /var/log/journal:
# the machine's journal is not touched), and starts the real daemon as systemd starts
# a unit: stderr on a journal stream, JOURNAL_STREAM naming it. Needs root and
# systemd-journald; without them it is skipped (77, SKIP_RETURN_CODE).
set -eu
if [ -z "${SAFETYGW_JOURNAL_NAMESPACE:-}" ]; then
    journald=""
    for candidate in /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald; do
        [ -x "$candidate" ] && journald=$candidate && break
    done
    if [ "$(id -u)" -ne 0 ] || [ -z "$journald" ] || ! command -v systemd-cat >/dev/null ||
        ! unshare -m true 2>/dev/null; then
        echo "SKIP: a private journald needs root, unshare and systemd-journald"
        exit 77
    fi
    SAFETYGW_JOURNAL_NAMESPACE=$journald exec unshare -m --propagation private bash "$0" "$@"
fi

. "$SAFETYGW_SOURCE_DIR/tests/integration/lib.sh"

for folder in /run/systemd /run/log /var/log/journal; do
    mkdir -p "$folder"
    mount -t tmpfs tmpfs "$folder"
done
mkdir -p /run/systemd/journal
"$SAFETYGW_JOURNAL_NAMESPACE" >>"$WORK/journald.log" 2>&1 &
PIDS="$PIDS $!"
journald_listens() { [ -S /run/systemd/journal/stdout ] && [ -S /run/systemd/journal/socket ]; }
wait_until 10 journald_listens || { fail "journald did not start"; exit 1; }
# On failure, what the journal holds is shown with the other logs.
dump_journal() { journalctl --no-pager -o short-precise >"$WORK/journal.log" 2>&1 || true; }
trap 'dump_journal; cleanup' EXIT

BROKER_PORT=$(free_port) # no broker: the daemon runs and retries
write_site "$WORK/site.yaml" 1
start_sim "$WORK/site.yaml" --no-wire-delay
# As systemd does for a unit with StandardError=journal: fd 2 is a stream to
# journald, and JOURNAL_STREAM its device:inode.
systemd-cat -t safetygwd bash -c \
    'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$0" -c "$1"' \
    "$DAEMON" "$WORK/site.yaml" &
DAEMON_PID=$!
PIDS="$PIDS $DAEMON_PID"

# entries MATCH...: the matching entries, one JSON object a line.
entries() { journalctl --no-pager -o json "$@"; }
# logged TEXT MATCH...: an entry matching MATCH whose message starts with TEXT (jq -e
# alone would succeed on no entries at all).
logged() {
    local message=$1; shift
    entries "$@" | jq -c --arg m "$message" 'select(.MESSAGE | startswith($m))' | grep -q .
}
check "journalctl SAFETYGW_DEVICE=gas-1 finds \"device gas-1 is online\"" \
    wait_until 30 logged "device gas-1 is online" SAFETYGW_DEVICE=gas-1
online=$(entries SAFETYGW_DEVICE=gas-1 | jq -c 'select(.MESSAGE | startswith("device gas-1 is online"))')
field_is() {
    [ -n "$online" ] && jq -e --arg v "$2" ".$1 == \$v" >/dev/null <<<"$online" ||
        { echo "entry: $online"; return 1; }
}
check "it is an info line (PRIORITY=6)" field_is PRIORITY 6
check "its identifier is safetygwd (journalctl -t safetygwd)" field_is SYSLOG_IDENTIFIER safetygwd
check "it names the code that logged it" field_is CODE_FUNC device_log_link
check "lift-1's own line is under SAFETYGW_DEVICE=lift-1" \
    wait_until 30 logged "device lift-1 is online" SAFETYGW_DEVICE=lift-1
only_gas_1() { ! entries SAFETYGW_DEVICE=gas-1 | jq -r .MESSAGE | grep -v 'gas-1'; }
check "SAFETYGW_DEVICE=gas-1 shows no other device's lines" only_gas_1
started_without_device() {
    entries -t safetygwd CODE_FUNC=main |
        jq -c 'select((.MESSAGE | startswith("safetygwd ")) and .SAFETYGW_DEVICE == null)' | grep -q .
}
check "a line about no device is an entry too, without SAFETYGW_DEVICE" started_without_device

sim fault gas-1 silent >/dev/null
check "and \"device gas-1 is offline\" when it falls silent" \
    wait_until 30 logged "device gas-1 is offline" SAFETYGW_DEVICE=gas-1

finish
