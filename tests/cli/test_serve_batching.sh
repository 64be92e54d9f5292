#!/usr/bin/env bash
# Continuous batching in `umi serve`: 8 concurrent greedy requests with
# different prompts (short and long, so prompts are still being read while
# others generate) each give exactly the text the same request gives alone,
# with --parallel 4 (half of them wait for a slot and join between steps)
# for a k-quant llama, a gemma2 with sliding-window rings (past its
# 32-token window), a qwen3moe (expert layers batch too) and a Q4_K_M
# MoE (its Q4_K and Q6_K expert stacks interleaved), and with
# --parallel 8 for the llama; /metrics shows
# decode passes that carried several sequences; a request sharing a busy
# slot's prompt prefix copies those KV rows into its own slot.
# usage: test_serve_batching.sh UMI SRC_DIR SHARED_DIR
set -u
umi=$1 src=$2 shared=$3
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
source "$src/tests/e2e/serve_lib.sh"

words=(the quick brown fox jumps over the lazy dog while a small bird sings in the old tree)
# prompt I: a different text and length for each request (4 .. ~130 words)
prompt() {
    local i=$1 p="request $i:" n=$(( (i * 37) % 130 + 4 ))
    for ((k = 1; k <= n; k++)); do p="$p ${words[(k * i) % 17]}"; done
    echo "$p"
}

# run MODEL TAG: the solo texts, then the same 8 requests at once.
run() {
    local model=$1 tag=$2
    for i in $(seq 8); do
        echo '{"model":"'$model'","prompt":"'"$(prompt $i)"'","max_tokens":'$((24 + 6 * i))',"temperature":0,"cache_prompt":false}' > "$tmp/req$i"
        http POST /v1/completions "$(cat "$tmp/req$i")" >/dev/null
        json "j['choices'][0]['text']" > "$tmp/alone$i"
        [ -s "$tmp/alone$i" ] || bad "$tag: request $i alone gave no text"
    done
    for i in $(seq 8); do
        curl -s --max-time 120 -o "$tmp/conc$i.json" "$base/v1/completions" --data-binary @"$tmp/req$i" &
    done
    wait $(jobs -p | grep -v "^${server_pid}$") 2>/dev/null
    local same=0
    for i in $(seq 8); do
        python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['choices'][0]['text'])" "$tmp/conc$i.json" \
            2>/dev/null | cmp -s - "$tmp/alone$i" && same=$((same + 1))
    done
    is "$tag: 8 concurrent greedy requests equal their solo text" "$same" 8
}

# passes of more than one sequence so far, from /metrics
multi_passes() {
    curl -s --max-time 10 "$base/metrics" | python3 -c "
import re, sys
le1 = total = 0
for line in sys.stdin:
    m = re.match(r'umi_decode_batch_sequences_bucket\{model=\"$1\",le=\"(\S+)\"\} (\d+)', line)
    if m and m.group(1) == '1': le1 = int(m.group(2))
    if m and m.group(1) == '+Inf': total = int(m.group(2))
print(total - le1)"
}

mkdir "$tmp/models" && ln -s "$shared"/models/rnd-llama-q4_k_m.gguf "$shared"/models/rnd-gemma2-q8_0.gguf \
    "$shared"/models/rnd-qwen3moe-q8_0.gguf "$shared"/models/rnd-moe-q4_k_m.gguf "$tmp/models/"
for par in 4 8; do
    start_server p$par --models-dir "$tmp/models" --parallel $par --ctx-size 512 -t 2
    run rnd-llama-q4_k_m "llama q4_k_m, --parallel $par"
    [ $par = 4 ] && run rnd-gemma2-q8_0 "gemma2 rings, --parallel $par"
    if [ $par = 4 ]; then
        run rnd-qwen3moe-q8_0 "qwen3moe experts, --parallel $par"
        run rnd-moe-q4_k_m "moe q4_k_m interleaved experts, --parallel $par"
        n=$(multi_passes rnd-qwen3moe-q8_0)
        [ "${n:-0}" -gt 0 ] && ok "qwen3moe: $n decode passes carried several sequences" \
            || bad "qwen3moe: no decode pass carried several sequences"
    fi
    n=$(multi_passes rnd-llama-q4_k_m)
    [ "${n:-0}" -gt 0 ] && ok "--parallel $par: $n decode passes carried several sequences" \
        || bad "--parallel $par: no decode pass carried several sequences" "$(curl -s "$base/metrics" | grep batch)"
    curl -s "$base/metrics" | grep -q '^umi_decode_batch_size{model="rnd-llama-q4_k_m"} [0-9]' \
        && ok "batch-size gauge" || bad "batch-size gauge"
    stop_server "$server_pid" && ok "--parallel $par: clean shutdown" || bad "--parallel $par: shutdown"
done

# A tied Q6_K token embedding (the output matrix too) is interleaved when slots
# decode together (--parallel > 1; the lookup reads rows out of the groups):
# the greedy text equals the file layout's.
mkdir "$tmp/tied" && ln -s "$src/tests/models/rnd-gemma2-q4_0-tied.gguf" "$tmp/tied/"
treq='{"model":"rnd-gemma2-q4_0-tied","prompt":"Once upon a time","max_tokens":24,"temperature":0}'
for mode in repack no-repack; do
    extra=""
    [ $mode = no-repack ] && extra=--no-repack
    start_server tied-$mode --models-dir "$tmp/tied" --parallel 2 --ctx-size 256 -t 2 $extra
    http POST /v1/completions "$treq" >/dev/null
    json "j['choices'][0]['text']" > "$tmp/tied-$mode"
    stop_server "$server_pid" || bad "tied $mode: shutdown"
done
[ -s "$tmp/tied-repack" ] && cmp -s "$tmp/tied-repack" "$tmp/tied-no-repack" \
    && ok "tied Q6_K embedding, --parallel 2: interleaved = file layout" \
    || bad "tied Q6_K embedding, --parallel 2: interleaved = file layout" "$(cat "$tmp/tied-repack" "$tmp/tied-no-repack")"

# Prefix sharing across slots: while one slot generates a long reply after a
# long prompt, a request with the same prompt prefix lands in the other slot
# and copies the prefix's KV rows from it instead of recomputing them.
start_server share --models-dir "$tmp/models" --parallel 2 --ctx-size 2048 -t 1
long=$(prompt 7)
http POST /v1/completions '{"model":"rnd-llama-q4_k_m","prompt":"'"$long"' one","max_tokens":1,"temperature":0}' >/dev/null
curl -s -N --max-time 120 -o "$tmp/busy.sse" "$base/v1/completions" \
    --data-binary '{"model":"rnd-llama-q4_k_m","prompt":"'"$long"' two","max_tokens":1500,"temperature":0,"stream":true}' &
busy=$!
for _ in $(seq 500); do grep -q '^data: {' "$tmp/busy.sse" 2>/dev/null && break; sleep 0.01; done
is "shared prefix: a second request while the first generates" \
    "$(http POST /v1/completions '{"model":"rnd-llama-q4_k_m","prompt":"'"$long"' three","max_tokens":2,"temperature":0}')" 200
cached=$(json "j['usage']['prompt_tokens_details']['cached_tokens']")
borrowed=$(curl -s --max-time 10 "$base/metrics" | sed -n 's/^umi_prompt_tokens_borrowed_total{model="rnd-llama-q4_k_m"} //p')
[ "${cached:-0}" -ge 32 ] && [ "${borrowed:-0}" -ge 32 ] \
    && ok "shared prefix copied from the busy slot ($borrowed tokens, $cached cached)" \
    || bad "shared prefix not copied from the busy slot" "cached=$cached borrowed=$borrowed $(tail -c 300 "$tmp/busy.sse")"
wait "$busy"
stop_server "$server_pid" && ok "prefix sharing: clean shutdown" || bad "prefix sharing: shutdown"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
