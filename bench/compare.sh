#!/usr/bin/env bash
# compare.sh MODEL...: umi and the reference engine side by side on the same
# files, alternating runs so both see the same machine state, then a ratio table.
#   LLAMA_BENCH=/path/to/llama-bench  (required: the reference built outside this repo)
#   UMI=build/umi  THREADS=2  P=512  N=128  R=3  ROUNDS=2
#   D=0  (tokens already in the cache before each test: llama-bench's -d / umi bench's -d)
#   UMI_ARGS="--repack-q8"  (extra options for umi bench, e.g. an opt-in layout)
set -euo pipefail
: "${LLAMA_BENCH:?set LLAMA_BENCH to the reference llama-bench binary}"
UMI=${UMI:-$(dirname "$0")/../build/umi}
THREADS=${THREADS:-2} P=${P:-512} N=${N:-128} R=${R:-3} ROUNDS=${ROUNDS:-2} D=${D:-0}
[ $# -gt 0 ] || { echo "usage: LLAMA_BENCH=... $0 MODEL.gguf..." >&2; exit 2; }

# One number from llama-bench's JSON: avg_ts of the test with n_prompt/n_gen.
ref_run() { # model kind(pp|tg)
    local args
    if [ "$2" = pp ]; then args=(-p "$P" -n 0); else args=(-p 0 -n "$N"); fi
    "$LLAMA_BENCH" -m "$1" -t "$THREADS" -r "$R" -d "$D" "${args[@]}" -o json 2>/dev/null |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["avg_ts"])'
}
umi_run() { # model kind
    local args key
    if [ "$2" = pp ]; then args=(-p "$P" -n 0); key=pp_tps; else args=(-p 0 -n "$N"); key=tg_tps; fi
    # shellcheck disable=SC2086 # UMI_ARGS is a list of options
    "$UMI" bench -m "$1" -t "$THREADS" -r "$R" -d "$D" "${args[@]}" ${UMI_ARGS:-} --json 2>/dev/null |
        /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$key'])"
}

printf '%-28s %-12s %10s %10s %7s\n' model test reference umi ratio
for model in "$@"; do
    for kind in pp tg; do
        ref_sum=0 umi_sum=0
        for ((i = 0; i < ROUNDS; i++)); do   # alternate: ref, umi, ref, umi ...
            ref_sum=$(awk -v a="$ref_sum" -v b="$(ref_run "$model" $kind)" 'BEGIN{print a+b}')
            umi_sum=$(awk -v a="$umi_sum" -v b="$(umi_run "$model" $kind)" 'BEGIN{print a+b}')
        done
        awk -v m="$(basename "$model")" -v k="$kind$([ $kind = pp ] && echo $P || echo $N)$([ "$D" = 0 ] || echo "@d$D")" \
            -v r="$ref_sum" -v u="$umi_sum" -v n="$ROUNDS" \
            'BEGIN { printf "%-28s %-12s %10.2f %10.2f %6.2fx\n", m, k, r/n, u/n, (r > 0 ? u/r : 0) }'
    done
done
