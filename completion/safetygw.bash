# bash completion for safetygw, the crew's command of the safetygw gateway.
#
# Installed as share/bash-completion/completions/safetygw: bash-completion loads it the
# first time `safetygw <Tab>` is pressed, and its helpers (_init_completion, _filedir)
# are what this file uses. The commands and options mirror gateway/cli/ (main.c and
# each command's option table); tests/service/test_completion.sh holds them to it.
#
# Device ids, device kinds and bus names come from the running daemon, asked over the
# socket named on the line (--socket PATH, -c FILE, before or after the command), as
# `safetygw devices --json` and `safetygw status --json`. Without a daemon, or when it
# does not answer within 2 s, they are simply not offered.
#
# shellcheck disable=SC2207 # COMPREPLY=($(compgen ...)): the idiom; no value has a space

# _safetygw_ask CLI WORDS-FROM-THE-LINE... -- REQUEST...: the daemon's JSON answer to
# `CLI REQUEST --json`, with the --socket/-c/--config the line names; empty on failure.
_safetygw_ask()
{
    local cli=$1 connection=() word
    shift
    while (($#)) && [[ $1 != -- ]]; do
        case $1 in
            --socket | -c | --config)
                (($# >= 2)) && [[ $2 != -- ]] && connection+=("$1" "${2/#\~/$HOME}")
                shift
                ;;
            --socket=* | --config=*)
                word=${1#*=}
                connection+=("${1%%=*}" "${word/#\~/$HOME}")
                ;;
        esac
        shift
    done
    shift # --
    timeout 2 "$cli" "$@" --json "${connection[@]}" 2>/dev/null </dev/null
}

# _safetygw_strings KEY: the string values of "KEY":"..." in the JSON on stdin, once
# each. The CLI prints compact JSON (one line), device objects first with "id".
_safetygw_strings()
{
    grep -o "\"$1\":\"[^\"]*\"" | sed "s/^\"$1\":\"//; s/\"\$//" | sort -u
}

_safetygw()
{
    local cur prev words cword split
    _init_completion -s || return

    local cli=${words[0]/#\~/$HOME}
    local commands="status devices device alarms shelve unshelve check probe scan watch help"
    local daemon_commands="status devices device alarms shelve unshelve"
    local daemon_options="--json --fail-on --socket -c --config --help"
    # Options that take a value: the next word is not a positional argument.
    local with_value="--socket|-c|--config|--fail-on|--kind|--bus|--state|--alarm|--for|--reason"
    with_value+="|--port|--baud|--parity|--data-bits|--stop-bits|--address|--addresses|--tcp"
    with_value+="|--unit|--units|--profile|--profiles|--timeout-ms|--broker|--topic-prefix"
    with_value+="|--share|--client-id|--username|--password-file"

    # The command: the first word that is not a global option (main.c moves --socket
    # PATH, -c FILE, --config FILE and --json from before the command to after it).
    local i command="" command_at=0 connection_given=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --socket | -c | --config)
                connection_given=yes
                ((i++))
                ;;
            --socket=* | --config=*) connection_given=yes ;;
            -*) ;;
            *)
                command=${words[i]}
                command_at=$i
                break
                ;;
        esac
    done

    # Values of options (prev is the option, also for --option=value).
    case $prev in
        --socket | --password-file)
            _filedir
            return
            ;;
        -c | --config)
            _filedir '@(yaml|yml)'
            return
            ;;
        --fail-on)
            # A comma-separated list: complete the word after the last comma.
            local head=""
            [[ $cur == *,* ]] && head=${cur%,*},
            local states="offline alarm fault"
            [[ $command == alarms ]] && states="alarm"
            COMPREPLY=($(compgen -P "$head" -W "$states" -- "${cur##*,}"))
            return
            ;;
        --state)
            COMPREPLY=($(compgen -W "ok alarm fault offline unknown" -- "$cur"))
            return
            ;;
        --kind)
            COMPREPLY=($(compgen -W "$(_safetygw_ask "$cli" "${words[@]:1}" -- devices |
                _safetygw_strings kind)" -- "$cur"))
            return
            ;;
        --bus)
            COMPREPLY=($(compgen -W "$(_safetygw_ask "$cli" "${words[@]:1}" -- status |
                _safetygw_strings name)" -- "$cur"))
            return
            ;;
        --alarm)
            # The alarms active on the device named on the line, as the daemon lists them.
            local device="" answer
            for ((i = command_at + 1; i < cword; i++)); do
                [[ ${words[i]} == -* ]] && { [[ ${words[i]} == @($with_value) ]] && ((i++)); continue; }
                device=${words[i]}
                break
            done
            [[ $device ]] || return
            answer=$(_safetygw_ask "$cli" "${words[@]:1}" -- device "$device")
            COMPREPLY=($(compgen -W "$(sed -n 's/.*"active_alarms":\[\(.*\)/\1/p' <<<"$answer" |
                _safetygw_strings alarm)" -- "$cur"))
            return
            ;;
        --port)
            local pattern ports=""
            for pattern in '/dev/serial/by-id/*' '/dev/ttyUSB*' '/dev/ttyACM*' '/dev/ttyAMA*' \
                '/dev/ttyS*'; do
                ports+=" $(compgen -G "$pattern")"
            done
            COMPREPLY=($(compgen -W "$ports" -- "$cur"))
            [[ ${#COMPREPLY[@]} -gt 0 ]] || _filedir
            return
            ;;
        --baud)
            local head=""
            [[ $command == scan && $cur == *,* ]] && head=${cur%,*},
            COMPREPLY=($(compgen -P "$head" -W "1200 2400 4800 9600 19200 38400 57600 115200" \
                -- "${cur##*,}"))
            return
            ;;
        --parity)
            local head=""
            [[ $command == scan && $cur == *,* ]] && head=${cur%,*},
            COMPREPLY=($(compgen -P "$head" -W "N E O" -- "${cur##*,}"))
            return
            ;;
        --data-bits)
            COMPREPLY=($(compgen -W "7 8" -- "$cur"))
            return
            ;;
        --stop-bits)
            COMPREPLY=($(compgen -W "1 2" -- "$cur"))
            return
            ;;
        --profile)
            # A profile's name (its "name:" in the --profiles folder, by default
            # /etc/safetygw/profiles), or a profile file.
            local folder=/etc/safetygw/profiles
            for ((i = command_at + 1; i < cword; i++)); do
                case ${words[i]} in
                    --profiles) folder=${words[i + 1]/#\~/$HOME} ;;
                    --profiles=*) folder=${words[i]#--profiles=} && folder=${folder/#\~/$HOME} ;;
                esac
            done
            COMPREPLY=($(compgen -W "$(sed -n 's/^name:[[:space:]]*\([^[:space:]#]*\).*/\1/p' \
                "$folder"/*.yaml "$folder"/*.yml 2>/dev/null)" -- "$cur"))
            [[ $cur == */* || $cur == .* ]] && _filedir '@(yaml|yml)'
            return
            ;;
        --profiles)
            _filedir -d
            return
            ;;
        --for)
            COMPREPLY=($(compgen -W "30m 90m 8h 1d 2d 7d" -- "$cur"))
            return
            ;;
        --*)
            # Any other option with a value (--reason, --tcp, --broker, ...): free text.
            [[ $prev == @($with_value) ]] && return
            ;;
    esac
    $split && return

    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--socket -c --config --json --help --version" -- "$cur"))
        elif [[ $connection_given ]]; then
            COMPREPLY=($(compgen -W "$daemon_commands" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    # Positional arguments the line already has after the command.
    local positionals=0
    for ((i = command_at + 1; i < cword; i++)); do
        if [[ ${words[i]} == -* ]]; then
            [[ ${words[i]} == @($with_value) ]] && ((i++))
        else
            ((positionals++))
        fi
    done

    local options=""
    case $command in
        status | alarms) options=$daemon_options ;;
        devices) options="--kind --bus --state $daemon_options" ;;
        device) options=$daemon_options ;;
        # They take --fail-on too, but it means nothing there.
        shelve) options="--alarm --for --reason ${daemon_options/--fail-on /}" ;;
        unshelve) options="--alarm ${daemon_options/--fail-on /}" ;;
        check) options="--json --strict --help" ;;
        probe)
            options="--port --baud --parity --data-bits --stop-bits --rs485 --address --tcp --unit"
            options+=" --profile --profiles --timeout-ms --raw --json --help"
            ;;
        scan)
            options="--port --baud --parity --data-bits --stop-bits --rs485 --addresses --tcp"
            options+=" --units --profile --profiles --timeout-ms --json --help"
            ;;
        watch)
            options="--broker --topic-prefix --share --client-id --username --password-file"
            options+=" --json --help"
            ;;
        *) return ;; # help, or not a command of ours
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
        return
    fi

    case $command in
        device | shelve | unshelve)
            ((positionals == 0)) || return
            COMPREPLY=($(compgen -W "$(_safetygw_ask "$cli" "${words[@]:1}" -- devices |
                _safetygw_strings id)" -- "$cur"))
            ;;
        check)
            ((positionals == 0)) && _filedir '@(yaml|yml)'
            ;;
    esac
} &&
    complete -F _safetygw safetygw

# ex: filetype=sh
