#!/usr/bin/env bash
# first_token.sh MODEL...: wall time from process start to the first generated
# token on a warm page cache, umi against the reference's minimal program
# (llama-simple: load, decode the prompt, sample one token), alternating runs
# so both see the same machine; prints the median of each and the ratio.
#   LLAMA_SIMPLE=/path/to/llama-simple  (required: the reference, built outside this repo)
#   UMI=build/umi  RUNS=5  PROMPT="Once upon a time"
set -euo pipefail
: "${LLAMA_SIMPLE:?set LLAMA_SIMPLE to the reference llama-simple binary}"
UMI=${UMI:-$(dirname "$0")/../build/umi}
RUNS=${RUNS:-5} PROMPT=${PROMPT:-Once upon a time}
[ $# -gt 0 ] || { echo "usage: LLAMA_SIMPLE=... $0 MODEL.gguf..." >&2; exit 2; }

# Seconds one command takes, its output discarded.
wall() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-28s %12s %12s %7s\n' model reference_s umi_s ratio
for model in "$@"; do
    cat "$model" >/dev/null # warm the page cache
    ref=() mine=()
    for ((i = 0; i < RUNS; i++)); do
        ref+=("$(wall "$LLAMA_SIMPLE" -m "$model" -n 1 "$PROMPT")")
        mine+=("$(wall "$UMI" run -m "$model" -p "$PROMPT" -n 1 --temp 0)")
    done
    r=$(printf '%s\n' "${ref[@]}" | median)
    u=$(printf '%s\n' "${mine[@]}" | median)
    printf '%-28s %12.3f %12.3f %6.2fx\n' "$(basename "$model")" "$r" "$u" "$(awk -v r="$r" -v u="$u" 'BEGIN { print r / u }')"
done
