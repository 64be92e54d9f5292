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

# Each round runs the reference then umi; "ratio" compares the rounds' means,
# "median" is the median of the rounds' own ratios (each pair of runs a few
# seconds apart), which one slow minute of a shared host moves less.
printf '%-28s %-12s %10s %10s %7s %7s\n' model test reference umi ratio median
for model in "$@"; do
    for kind in pp tg; do
        pairs=""
        for ((i = 0; i < ROUNDS; i++)); do   # alternate: ref, umi, ref, umi ...
            r=$(ref_run "$model" $kind)
            u=$(umi_run "$model" $kind)
            pairs="$pairs $r $u"
        done
        # shellcheck disable=SC2086 # pairs is a list of numbers
        /usr/bin/python3 - "$(basename "$model")" "$kind$([ $kind = pp ] && echo $P || echo $N)$([ "$D" = 0 ] || echo "@d$D")" $pairs <<'PY'
import statistics, sys
name, test, v = sys.argv[1], sys.argv[2], [float(x) for x in sys.argv[3:]]
ref, umi = v[0::2], v[1::2]
r, u = statistics.mean(ref), statistics.mean(umi)
med = statistics.median(b / a for a, b in zip(ref, umi) if a > 0) if any(a > 0 for a in ref) else 0
print(f"{name:<28} {test:<12} {r:10.2f} {u:10.2f} {(u / r if r > 0 else 0):6.2f}x {med:6.2f}x")
PY
    done
done
