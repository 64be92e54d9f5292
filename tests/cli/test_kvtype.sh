#!/usr/bin/env bash
# KV cache types (--kv-type f16|q8_0|q4_0) end to end: perplexity close to
# the F16 cache's (and equal to the reference's), a long generation through
# gemma2's sliding-window rings, a chat turn,
# clear refusals, `umi bench --json` reporting the type with peak RSS close
# to the plan, and a request served by `umi serve --kv-type q8_0`.
# usage: test_kvtype.sh UMI SRC_DIR SHARED_DIR
set -u
umi=$1 src=$2 shared=$3
tmp=$(mktemp -d)
export XDG_CONFIG_HOME=$tmp # never measure or cache bandwidth in the real home
source "$src/tests/e2e/serve_lib.sh"
trap 'cleanup_servers; rm -rf "$tmp"' EXIT
M=$shared/models
text=$shared/text/gpl3-head.txt

# -------------------------------------------------------------- perplexity
# Measured (-c 128, 8 chunks): rnd-llama-f32 f16 1710.38, q8_0 1710.57
# (+0.01 %), q4_0 1676.02 (-2.0 %); rnd-qwen2-f32 f16 1329.90, q8_0 1328.77
# (-0.09 %), q4_0 1285.81 (-3.3 %; its heads of 64 are Hadamard-rotated).
# Bounds: q8_0 1 %, q4_0 5 % of f16. The reference's llama-perplexity -fa on
# -ctk T -ctv T gives the same values (the last field), held to 0.01 %.
ppl() { "$umi" perplexity -m "$1" -f "$text" -c 128 --chunks 8 -t 2 --kv-type "$2" 2>&1 | sed -n 's/^PPL = //p'; }
near() { awk -v g="$1" -v b="$2" -v tol="$3" 'BEGIN { r = (g - b) / b; if (r < 0) r = -r; exit !(g != "" && r <= tol) }'; }
for row in rnd-llama-f32:q8_0:0.01:1710.5685 rnd-llama-f32:q4_0:0.05:1676.0167 \
           rnd-qwen2-f32:q8_0:0.01:1328.7655 rnd-qwen2-f32:q4_0:0.05:1285.8069; do
    IFS=: read -r model t tol ref <<<"$row"
    [ "${base_model:-}" = "$model" ] || { base=$(ppl "$M/$model.gguf" f16); base_model=$model; }
    got=$(ppl "$M/$model.gguf" "$t")
    if near "$got" "$base" "$tol"; then ok "$model $t PPL $got vs f16 $base"; else bad "$model $t PPL '$got' vs f16 $base (bound $tol)"; fi
    if near "$got" "$ref" 0.0001; then ok "$model $t PPL is the reference's $ref"; else bad "$model $t PPL '$got' vs reference $ref"; fi
done

# -------------------------------------------------------------- rings
# gemma2's window is 32: with -c 1024 its sliding layers keep rings of
# 32 + 511 cells, which 900 generated tokens wrap around.
out=$("$umi" run -m "$M/rnd-gemma2-f32.gguf" -c 1024 -n 900 --ignore-eos --temp 0 --ids -p "Once upon a time" \
      --kv-type q8_0 2>"$tmp/err")
is "gemma2 q8_0: 900 tokens through the rings" "$?:$(wc -w <<<"$out")" "0:900"

out=$(printf 'Hi\n/exit\n' | "$umi" chat -m "$M/rnd-qwen2-f32.gguf" --kv-type q4_0 -n 8 --temp 0 2>"$tmp/err")
is "chat --kv-type q4_0 replies" "$?:$(grep -c 'generated 8 tokens' "$tmp/err")" "0:1"

# -------------------------------------------------------------- refusals
"$umi" run -p hi -n 2 --kv-type q8_0 >/dev/null 2>"$tmp/err"
is "stories260K (head dim 8) refuses q8_0" "$?:$(grep -c 'multiples of 32' "$tmp/err")" "1:1"
"$umi" run -m "$M/rnd-deepseek2-f32.gguf" -p hi -n 2 --kv-type q4_0 >/dev/null 2>"$tmp/err"
is "deepseek2 (MLA) refuses q4_0" "$?:$(grep -c 'MLA' "$tmp/err")" "1:1"
"$umi" run -p hi -n 2 --kv-type q5_1 >/dev/null 2>"$tmp/err"
is "an unknown type is refused" "$?:$(grep -c "unknown KV cache type 'q5_1'" "$tmp/err")" "1:1"

# -------------------------------------------------------------- bench and plan
# The planner sizes the cache with the engine's function: the bench's plan
# must show the q8_0 cache at 17/32 of the f16 one, and peak RSS near the plan.
field() { sed -n "s/.*\"$1\": \"*\([^,\"]*\).*/\1/p" <<<"$2"; }
declare -A kvb
for t in f16 q8_0; do
    j=$("$umi" bench -m "$M/rnd-qwen2-f32.gguf" -p 256 -n 8 -r 1 -t 2 --kv-type $t --json 2>&1)
    is "bench --kv-type $t reports it" "$(field kv_type "$j")" "$t"
    kvb[$t]=$(field plan_kv_bytes "$j")
    rss=$(field peak_rss_bytes "$j") plan=$(field plan_total_bytes "$j")
    if [ -n "${UMI_SANITIZED:-}" ]; then # AddressSanitizer's shadow memory is not the engine's
        :
    elif awk -v r="$rss" -v p="$plan" 'BEGIN { d = (r - p) / p; if (d < 0) d = -d; exit !(p > 0 && d < 0.15) }'; then
        ok "bench $t: peak RSS $rss within 15 % of the plan's $plan"
    else
        bad "bench $t: peak RSS $rss vs plan $plan"
    fi
done
is "plan: q8_0 cache is 17/32 of f16" "$((kvb[f16] * 17))" "$((kvb[q8_0] * 32))"

# -------------------------------------------------------------- serve
if command -v curl >/dev/null; then
    start_server kv -m "$M/rnd-llama-f32.gguf" --kv-type q8_0 -t 1 -c 256
    is "serve --kv-type q8_0: completion" \
        "$(http POST /v1/completions '{"prompt":"Once upon a time","max_tokens":8,"temperature":0}')" 200
    is "serve --kv-type q8_0: 8 tokens" "$(json "j['usage']['completion_tokens']")" 8
    # /api/ps reports what the memory budget counts: the planner's total for
    # this model with one 256-token q8_0 slot (the cache at 17/32 of f16).
    want=$("$umi" plan "$M/rnd-llama-f32.gguf" -c 256 --kv-type q8_0 --bw 40 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_bytes"])')
    is "serve --kv-type q8_0: /api/ps size is the plan's total with a q8_0 cache" \
        "$(http GET /api/ps >/dev/null; json "j['models'][0]['size']")" "$want"
    "$umi" serve --kv-type q3 --port 0 >/dev/null 2>"$tmp/err"
    is "serve refuses an unknown type at start" "$?:$(grep -c 'unknown --kv-type' "$tmp/err")" "2:1"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
