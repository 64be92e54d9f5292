#!/usr/bin/env bash
# umi plan: catalog predictions, GGUF header plans, hardware profiles, JSON,
# listing and advice. Args: umi binary, source dir, shared dir.
set -u
UMI=$1
SRC=$2
SHARED=$3
fail=0
check() { # description, then a command that must succeed
    local what=$1
    shift
    if ! "$@"; then
        echo "FAIL: $what"
        fail=1
    fi
}
# Never measure or cache bandwidth in the real home directory.
export XDG_CONFIG_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_CONFIG_HOME"' EXIT

# A catalog model: file_bytes within 1% of the published 4.92 GB (Llama 3.1 8B Q4_K_M).
out=$("$UMI" plan --model llama-3.1-8b --quant Q4_K_M --hw m3-ultra-96 --json) || { echo "FAIL: catalog plan"; exit 1; }
fb=$(echo "$out" | sed -n 's/.*"file_bytes":\([0-9]*\).*/\1/p')
check "llama-3.1-8b Q4_K_M file_bytes $fb within 1% of 4.92e9" \
    awk -v b="$fb" 'BEGIN { e = (b - 4.92e9) / 4.92e9; exit !(e < 0.01 && e > -0.01) }'
check "fits on an M3 Ultra" grep -q '"verdict":"fits"' <<<"$out"

# DeepSeek R1 Q4_K_M does not fit a 96 GB machine but fits 512 GB; the Apple
# wired-limit suggestion appears when the default GPU limit is the obstacle.
check "deepseek-r1 does not fit 96 GB" bash -c "'$UMI' plan --model deepseek-r1 --hw m3-ultra-96 --json | grep -q '\"verdict\":\"does not fit\"'"
out=$("$UMI" plan --model deepseek-r1 --quant IQ2_XXS --hw m3-ultra-256 -c 8192)
check "iq2_xxs r1 on 256 GB suggests a wired limit" grep -q "iogpu.wired_limit_mb=" <<<"$out"

# A GGUF header: weights by type come from the file, and the KV cache is the
# engine's own sizing (rnd-llama: 3 layers x 2 KV heads x 32 dims, f16, K+V).
out=$("$UMI" plan "$SHARED/models/rnd-llama-q8_0.gguf" -c 1024 --hw this --mem 8 --bw 40 --json)
check "gguf plan kv bytes" grep -q '"kv_bytes":786432,' <<<"$out"
check "gguf plan has q8_0 weights" grep -q '"q8_0":' <<<"$out"
check "gguf plan fits 8 GB" grep -q '"verdict":"fits"' <<<"$out"
out=$("$UMI" plan "$SHARED/models/rnd-llama-q8_0.gguf" -c 1024 --kv-type q8_0 --parallel 2 --mem 8 --bw 40 --json)
check "q8_0 KV, 2 sequences" grep -q '"kv_bytes":835584,' <<<"$out"

# On this machine without --bw: each weight type's decode rate is measured
# once, cached beside the bandwidth, and the prediction says it used them.
out=$("$UMI" plan "$SHARED/models/rnd-llama-q8_0.gguf" -c 256 --mem 8 --json)
check "this: decode rates measured" grep -q '"tg_measured_rates":true' <<<"$out"
check "this: q8_0 rate cached" grep -Eq "^q8_0@[a-z0-9]+\.r[0-9]+ [0-9]+ [0-9.]+ 1$" "$XDG_CONFIG_HOME/umi/decode-rates"
before=$(cat "$XDG_CONFIG_HOME/umi/decode-rates")
"$UMI" plan "$SHARED/models/rnd-llama-q8_0.gguf" -c 256 --mem 8 >/dev/null
check "this: the cached rate is reused" test "$before" = "$(cat "$XDG_CONFIG_HOME/umi/decode-rates")"
# umi bench measures afresh (before its run and after it here) and the cache
# keeps the running mean of every measurement: 3 now.
"$UMI" bench -m "$SHARED/models/rnd-llama-q8_0.gguf" -p 0 -n 2 -r 1 --probe-every 0 --json >/dev/null
check "this: bench's measurements join the cached mean" grep -Eq "^q8_0@[a-z0-9]+\.r[0-9]+ [0-9]+ [0-9.]+ 3$" "$XDG_CONFIG_HOME/umi/decode-rates"
# an older cache line without its count is one measurement
sed -i -E 's/^(q8_0@[^ ]+ [0-9]+ [0-9.]+) 3$/\1/' "$XDG_CONFIG_HOME/umi/decode-rates"
"$UMI" bench -m "$SHARED/models/rnd-llama-q8_0.gguf" -p 0 -n 2 -r 1 --probe-every 0 --json >/dev/null
check "this: a line without a count counts once" grep -Eq "^q8_0@[a-z0-9]+\.r[0-9]+ [0-9]+ [0-9.]+ 3$" "$XDG_CONFIG_HOME/umi/decode-rates"
# Prompt speed likewise from each weight type's measured prompt rate (and
# F16's, for attention), cached in prompt-rates.
check "this: prompt rates measured" grep -q '"pp_measured_rates":true' <<<"$out"
check "this: q8_0 prompt rate cached" grep -Eq "^q8_0@[a-z0-9]+\.r[0-9]+ [0-9]+ [0-9.]+ [0-9]+$" "$XDG_CONFIG_HOME/umi/prompt-rates"
check "this: f16 prompt rate cached" grep -Eq "^f16@[a-z0-9]+\.r[0-9]+ [0-9]+ [0-9.]+ [0-9]+$" "$XDG_CONFIG_HOME/umi/prompt-rates"
# Decode attention's arithmetic at the full context, from its measured rate
# for the model's head shape (32-dim heads in groups of 4), cached too: a
# long context on this machine decodes slower than the cache's bytes alone say.
check "this: attention rate cached" grep -Eq "^att32x32g4@[a-z0-9]+\.r[0-9]+ 1 [0-9.]+ [0-9]+$" "$XDG_CONFIG_HOME/umi/attention-rates"
long=$("$UMI" plan "$SHARED/models/rnd-llama-q8_0.gguf" -c 4096 --mem 8 --json)
noatt=$("$UMI" plan "$SHARED/models/rnd-llama-q8_0.gguf" -c 4096 --mem 8 --bw 40 --json)
check "this: attention slows the full context" python3 -c "
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ra, rb = a['tg_tps'] / a['tg_tps_full'], b['tg_tps'] / b['tg_tps_full']
sys.exit(0 if ra > rb else 1)" "$long" "$noatt"
# A prompt deep in a context attends to the cached positions too (P*D + P*P/2
# per head): the chunk ending a 2048 context is slower than one into an empty
# cache, with measured rates and with the profile's, and umi bench's plan of
# a prompt at depth 2048 is slower than at depth 0.
pp_slower() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not 0 < d["pp_tps_full"] < d["pp_tps"])' "$1"; }
for bw in "" "--bw 40"; do
    out=$("$UMI" plan "$SHARED/models/rnd-llama-q8_0.gguf" -c 2048 --mem 8 $bw --json)
    check "pp at the full context slower than empty ${bw:-(rates)}" pp_slower "$out"
done
bench_pp() { "$UMI" bench -m "$SHARED/models/rnd-llama-q8_0.gguf" -p 64 -n 0 -r 1 -d "$1" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["plan_pp_tps"])'; }
pp0=$(bench_pp 0) pp2k=$(bench_pp 2048)
check "bench: planned pp at depth 2048 ($pp2k) below depth 0 ($pp0)" awk -v a="$pp2k" -v b="$pp0" 'BEGIN { exit !(a > 0 && a < b) }'
out=$("$UMI" plan "$SHARED/models/rnd-llama-q8_0.gguf" -c 256 --mem 8 --bw 40 --json)
check "--bw: bandwidth x efficiency, no rates" grep -q '"tg_measured_rates":false' <<<"$out"
check "--bw: prompt speed from the profile's compute" grep -q '"pp_measured_rates":false' <<<"$out"

# A budget too small for the weights: does not fit and no context fits.
out=$("$UMI" plan --model llama-3.1-70b --mem 16 --bw 100 --json)
check "70B in 16 GB does not fit" grep -q '"verdict":"does not fit"' <<<"$out"
check "70B in 16 GB: no context fits" grep -q '"n_ctx_max":0,' <<<"$out"

# Listing and advice.
check "--list names the catalog" bash -c "'$UMI' plan --list | grep -q qwen2.5-coder-32b"
check "--list --json" bash -c "'$UMI' plan --list --json | grep -q '\"name\":\"mixtral-8x7b\"'"
out=$("$UMI" plan --advise --hw m3-ultra-256 --task code --min-tps 10 -c 32768)
check "--advise ranks code models" grep -q "1\. " <<<"$out"

# Errors: unknown model / profile / quant are usage errors; a missing file a runtime error.
"$UMI" plan --model no-such-model >/dev/null 2>&1; check "unknown model exits 2" test $? -eq 2
"$UMI" plan --model llama-3.1-8b --hw no-such-hw >/dev/null 2>&1; check "unknown hw exits 2" test $? -eq 2
"$UMI" plan --model llama-3.1-8b --quant Q9_K >/dev/null 2>&1; check "unknown quant exits 2" test $? -eq 2
"$UMI" plan /nonexistent.gguf >/dev/null 2>&1; check "missing file exits 1" test $? -eq 1

exit $fail
