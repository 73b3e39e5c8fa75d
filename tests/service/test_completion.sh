#!/bin/bash
# The bash completion of safetygw (completion/safetygw.bash, installed for
# bash-completion): commands, each command's options (held to what `safetygw CMD
# --help` says), option values, files for -c/--socket/check, and device ids, kinds,
# bus names and active alarms from the real daemon and simulator over the socket named
# on the line, before or after the command. With no daemon it offers nothing and says
# nothing. Skipped (77) without bash-completion, whose helpers the file uses.
. "$SAFETYGW_SOURCE_DIR/tests/integration/lib.sh"

BASH_COMPLETION=/usr/share/bash-completion/bash_completion
if [ ! -f "$BASH_COMPLETION" ]; then
    echo "SKIP: bash-completion is not installed ($BASH_COMPLETION)"
    exit 77
fi
set +eu # bash-completion's helpers are written for interactive shells
# shellcheck disable=SC1090
. "$BASH_COMPLETION"
. "$SAFETYGW_SOURCE_DIR/completion/safetygw.bash"
PATH="$SAFETYGW_BUILD_DIR/gateway:$PATH" # the real CLI answers `devices --json`

# complete LINE: what Tab at the end of LINE offers, one a line, sorted. COMP_WORDS is
# split as bash splits it: at blanks, and = and : (COMP_WORDBREAKS) are words of their own.
complete() {
    local line=$1
    COMP_LINE=$line
    COMP_POINT=${#line}
    local spaced=${line//=/ = }
    read -ra COMP_WORDS <<<"${spaced//:/ : }"
    [[ $line == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _safetygw safetygw "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>>"$WORK/completion-stderr.log"
    [ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort
}
# offers LINE WORD...: exactly these words.
offers() {
    local line=$1 got want; shift
    got=$(complete "$line")
    want=$(printf '%s\n' "$@" | sort)
    [ "$got" = "$want" ] || { echo "'$line<Tab>' offers:"; echo "${got:-(nothing)}"; echo "wanted:"; echo "$want"; return 1; }
}
# offers_some LINE WORD...: these words among others.
offers_some() {
    local line=$1 got word; shift
    got=$(complete "$line")
    for word in "$@"; do
        grep -qxF -- "$word" <<<"$got" || { echo "'$line<Tab>' lacks $word; offers:"; echo "$got"; return 1; }
    done
}

# --- without a daemon
check "commands" offers "safetygw " status devices device alarms shelve unshelve check probe scan \
    watch help
check "commands by prefix" offers "safetygw de" device devices
check "global options before the command" offers "safetygw -" --socket -c --config --json --help \
    --version
check "only the daemon's commands after --socket" offers "safetygw --socket /run/x.sock " status \
    devices device alarms shelve unshelve
check "options of devices" offers "safetygw devices --" --kind --bus --state --json --fail-on \
    --socket --config --help
check "-c among them" offers "safetygw devices -" --kind --bus --state --json --fail-on --socket -c \
    --config --help
check "--state values" offers "safetygw devices --state " ok alarm fault offline unknown
check "--state=value" offers "safetygw devices --state=of" offline
check "--fail-on, a list" offers "safetygw status --fail-on offline,a" offline,alarm
check "alarms fails on alarm only" offers "safetygw alarms --fail-on " alarm
check "probe's options" offers_some "safetygw probe --" --port --tcp --address --unit --profile \
    --profiles --raw --rs485
check "scan --parity, a list" offers "safetygw scan --parity N," N,N N,E N,O
check "probe --profile: names in --profiles" offers \
    "safetygw probe --profiles $SAFETYGW_SOURCE_DIR/config/profiles --profile " \
    gas-alarm elevator ebike-charger-10

mkdir -p "$WORK/files/sub"
touch "$WORK/files/site.yaml" "$WORK/files/site.txt" "$WORK/files/other.yml"
check "-c FILE: yaml files and folders" offers "safetygw -c $WORK/files/" \
    "$WORK/files/site.yaml" "$WORK/files/other.yml" "$WORK/files/sub"
check "--config=FILE" offers "safetygw status --config=$WORK/files/si" "$WORK/files/site.yaml"
check "--socket PATH: any file" offers "safetygw --socket $WORK/files/site" \
    "$WORK/files/site.yaml" "$WORK/files/site.txt"
check "check FILE" offers "safetygw check $WORK/files/s" "$WORK/files/site.yaml" "$WORK/files/sub"

quiet_without_daemon() {
    : >"$WORK/completion-stderr.log"
    offers "safetygw --socket $WORK/nobody.sock device " &&
        offers "safetygw devices --socket $WORK/nobody.sock --bus " &&
        [ ! -s "$WORK/completion-stderr.log" ] || { cat "$WORK/completion-stderr.log"; return 1; }
}
check "no daemon: no device ids, no bus names, no message" quiet_without_daemon

# Every option `safetygw CMD --help` shows is offered, and nothing else but --help
# and --config (the long form of -c).
options_match_help() {
    local command=$1 shown offered extra missing
    shown=$(safetygw "$command" --help | grep -oE -- '(^|[ [|])--?[a-z][a-z0-9-]*' |
        sed 's/^[ [|]//' | sort -u)
    offered=$(complete "safetygw $command -")
    extra=$(comm -13 <(echo "$shown") <(echo "$offered") | grep -vxE -- '--help|--config' || true)
    missing=$(comm -23 <(echo "$shown") <(echo "$offered"))
    [ -z "$missing$extra" ] || { echo "$command: not offered: $missing; not in --help: $extra"; return 1; }
}
for command in status devices device alarms shelve unshelve check probe scan watch; do
    check "$command: the options of its --help" options_match_help "$command"
done
commands_match_help() {
    local shown
    shown=$(safetygw --help | sed -n 's/^  \([a-z][a-z]*\)\( .*\)\{0,1\}$/\1/p' | sort -u)
    [ "$shown" = "$(complete "safetygw " | grep -vx help)" ] ||
        { echo "safetygw --help lists: $shown"; return 1; }
}
check "the commands of safetygw --help" commands_match_help

# --- with the daemon and the simulator
BROKER_PORT=$(free_port) # no broker: the control socket answers all the same
write_site "$WORK/site.yaml" 2
start_sim "$WORK/site.yaml" --no-wire-delay
start_daemon "$WORK/site.yaml"
socket="$WORK/control.sock"
daemon_answers() { safetygw --socket "$socket" devices --json >/dev/null; }
wait_until 15 daemon_answers || { fail "the daemon did not answer on $socket"; exit 1; }

check "device ids after --socket" offers "safetygw --socket $socket device " gas-1 gas-2 lift-1 \
    ebike-1
check "device ids by prefix, --socket after" offers "safetygw device --socket $socket g" gas-1 gas-2
check "device ids with -c gateway.yaml" offers "safetygw -c $WORK/site.yaml shelve " gas-1 gas-2 \
    lift-1 ebike-1
check "device ids with --socket=PATH" offers "safetygw unshelve --socket=$socket l" lift-1
check "one device id only" offers "safetygw --socket $socket device gas-1 "
check "--kind from the daemon" offers "safetygw --socket $socket devices --kind " gas_alarm \
    elevator ebike_charger
check "--bus names from the daemon" offers "safetygw devices --socket $socket --bus " bldg-1 conv-1

sim fault gas-2 silent >/dev/null
offline_active() { safetygw --socket "$socket" device gas-2 --json | grep -q '"alarm":"offline"'; }
check "gas-2 falls silent: its offline alarm is active" wait_until 20 offline_active
check "shelve DEVICE --alarm: its active alarms" offers "safetygw --socket $socket shelve gas-2 --alarm " \
    offline
check "not another device's" offers "safetygw --socket $socket unshelve gas-1 --alarm "

finish
