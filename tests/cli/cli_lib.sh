# Helpers of the CLI tests, sourced after tests/integration/lib.sh.

# holds FILTER JSON: jq's FILTER is true for JSON. Unlike `jq -e` alone, empty
# input (a command that printed nothing) is false.
holds() {
    local filter=$1 json=$2; shift 2
    [ -n "$json" ] && jq -e "$@" "$filter" >/dev/null 2>&1 <<<"$json"
}

# error_is RESPONSE TEXT: a refusal whose error contains TEXT.
error_is() { holds '.ok == false and (.error | contains($want))' "$1" --arg want "$2"; }
