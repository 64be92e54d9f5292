#!/usr/bin/env bash
# The umi command as a user meets it: help, exit codes, error lines, the
# bundled model, and greedy output through the CLI matching the reference.
# usage: test_cli.sh UMI SRC_DIR SHARED_DIR
set -u
umi=$1 src=$2 shared=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok()   { passed=$((passed + 1)); echo "ok   $1"; }
bad()  { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | head -5; }

# expect NAME WANT_RC PATTERN -- CMD...: exit code and a pattern in stdout+stderr.
expect() {
    local name=$1 want=$2 pat=$3; shift 4
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -ne "$want" ]; then bad "$name (exit $rc, want $want)" "$out"; return; fi
    if [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$out"; then bad "$name (no /$pat/)" "$out"; return; fi
    ok "$name"
}

cd "$src"
expect "top-level help"         0 "commands:"          -- "$umi" --help
expect "no command"             2 "usage"              -- "$umi"
expect "unknown command"        2 "unknown command"    -- "$umi" frobnicate
for c in run info perplexity tokenize chat template bench; do
    expect "$c --help"          0 "usage: umi $c"      -- "$umi" $c --help
done
expect "unknown option"         2 "unknown option"     -- "$umi" run --bogus
expect "bad number"             2 "not a valid"        -- "$umi" run -p hi -n abc
expect "run without prompt"     2 "no prompt"          -- "$umi" run
expect "run -b 4: prompt in 4-token chunks" 0 "^Once upon a time, there was a little" \
    -- "$umi" run -b 4 -p "Once upon a time" --temp 0 -n 8
expect "run -b -1"              2 "batch-size must be at least 1" -- "$umi" run -b -1 -p x
expect "missing model file"     1 "no-such.gguf"       -- "$umi" run -m "$tmp/no-such.gguf" -p hi
expect "not a gguf"             1 "magic"              -- "$umi" info "$src/README.md"
head -c 1000 "$shared/models/stories260K.gguf" > "$tmp/trunc.gguf"
expect "truncated gguf"         1 "trunc.gguf: "       -- "$umi" run -m "$tmp/trunc.gguf" -p hi
# An architecture umi does not know: deepseek2's file under another name.
LC_ALL=C sed 's/deepseek2/deepseek9/g' "$shared/models/rnd-deepseek2-f32.gguf" > "$tmp/other-arch.gguf"
expect "unsupported arch"       1 "not supported"      -- "$umi" run -m "$tmp/other-arch.gguf" -p hi
expect "prompt over context"    1 "context holds 8"    -- "$umi" run -c 8 -p "Once upon a time there was a little girl who liked to play"
expect "bad prompt tokens"      2 "prompt-tokens"      -- "$umi" run --prompt-tokens 1,x,3
expect "token outside vocab"    2 "outside the vocab"  -- "$umi" run --prompt-tokens 1,99999
expect "info of bundled model"  0 "architecture +llama" -- "$umi" info
expect "info of other arch"     0 "deepseek9"          -- "$umi" info "$tmp/other-arch.gguf"
# MLA caches (kv_lora 256 + rope 32) x 2 layers x 2 bytes per token, not per-head K and V.
ds2="$shared/models/rnd-deepseek2-f32.gguf"
expect "info: MLA kv per token" 0 "kv cache per token +1152 bytes \(f16 MLA latent 256 \+ rope 32" -- "$umi" info "$ds2"
expect "info: experts"          0 "experts +8 total, 2 active per token, width 256, 1 shared" -- "$umi" info "$ds2"
expect "info: active params"    0 "active parameters +2.12 M"  -- "$umi" info "$ds2"
expect "info: LongRoPE"         0 "rope +neox, 48 dims.*LongRoPE factors \(long beyond 64 tokens" \
    -- "$umi" info "$src/tests/models/rnd-phi3-longrope-f32.gguf"
expect "info: sliding window"   0 "sliding window +6 of 7 layers attend to the last 32 tokens only: past that, 384 bytes per token" \
    -- "$umi" info "$src/tests/models/rnd-gemma3-q8_0.gguf"
expect "plan: MLA kv per token" 0 '"kv_bytes_per_token":1152,' -- "$umi" plan "$ds2" -c 1024 --json
expect "tokenize ids"           0 "^1 403 407 261 378$" -- "$umi" tokenize -p "Once upon a time" --ids
expect "story and timing line"  0 "first token .* ms"  -- "$umi" run -p "Once upon a time" -n 40 --seed 1

# Greedy through the CLI equals the reference (real model: all 32 tokens).
want=$(awk -F'\t' '$1 == "stories260K.gguf" && $2 == "Once upon a time" { gsub(",", " ", $4); print $4 }' \
       "$shared/golden/greedy.tsv")
got=$("$umi" run -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids 2>/dev/null)
if [ "$got" = "$want" ]; then ok "greedy ids via CLI"; else bad "greedy ids via CLI" "got  $got
want $want"; fi
got=$("$umi" run --prompt-tokens 1,403,407,261,378 -n 32 --temp 0 --ignore-eos --ids 2>/dev/null)
if [ "$got" = "$want" ]; then ok "--prompt-tokens"; else bad "--prompt-tokens" "$got"; fi
# Same seed, same text; different seeds usually differ.
a=$("$umi" run -p "Once" -n 30 --seed 7 2>/dev/null); b=$("$umi" run -p "Once" -n 30 --seed 7 2>/dev/null)
if [ "$a" = "$b" ]; then ok "seeded sampling is reproducible"; else bad "seeded sampling is reproducible"; fi
# --no-mmap reads the file and gives the same result.
got=$("$umi" run --no-mmap -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids 2>/dev/null)
if [ "$got" = "$want" ]; then ok "--no-mmap"; else bad "--no-mmap" "$got"; fi
# Repacked weights (Q4_0, IQ4_NL, Q4_K and Q6_K, interleaved at load where
# the CPU has the kernel) give the bits of the file's layout: mapped, read, off, and
# through the AVX2 tiles (UMI_CPU=avx2; on CPUs without AVX2 the same path
# as off). moe-q4_k_m: its Q4_K expert stacks are repacked too (its Q6_K
# ones only for batch decoding).
for q in q4_0 iq4_nl q4_k_m q6_k gemma2-tied moe-q4_k_m; do
    m="$shared/models/rnd-llama-$q.gguf"
    [ "$q" = moe-q4_k_m ] && m="$shared/models/rnd-$q.gguf"
    # tied embeddings: the Q6_K token_embd is also the output matrix (interleaved
    # only for batch decoding: test_serve_batching.sh; here its Q4_0 layers are)
    [ "$q" = gemma2-tied ] && m="$src/tests/models/rnd-gemma2-q4_0-tied.gguf"
    a=$("$umi" run -m "$m" -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids 2>/dev/null)
    b=$("$umi" run -m "$m" -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids --no-repack 2>/dev/null)
    c=$("$umi" run -m "$m" -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids --no-mmap 2>/dev/null)
    d=$(UMI_CPU=avx2 "$umi" run -m "$m" -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids 2>/dev/null)
    if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ] && [ "$a" = "$d" ]; then ok "$q: repacked = --no-repack = --no-mmap = avx2"
    else bad "$q: repacked = --no-repack = --no-mmap = avx2" "$a
$b
$c"; fi
done

# Q8_0 is interleaved only on request (--repack-q8; AVX-512 VNNI): its tile sums
# each block exactly, not in the reference's order, so its bits are its own —
# the same mapped and read (in place), and where the CPU has no such tile
# (UMI_CPU=avx2) the flag changes nothing: the file layout's bits.
m="$shared/models/rnd-llama-q8_0.gguf"
a=$("$umi" run -m "$m" -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids --repack-q8 2>/dev/null)
c=$("$umi" run -m "$m" -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids --repack-q8 --no-mmap 2>/dev/null)
b=$(UMI_CPU=avx2 "$umi" run -m "$m" -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids --repack-q8 2>/dev/null)
d=$("$umi" run -m "$m" -p "Once upon a time" -n 32 --temp 0 --ignore-eos --ids 2>/dev/null)
if [ -n "$a" ] && [ "$a" = "$c" ] && [ -n "$b" ] && [ "$b" = "$d" ]; then ok "q8_0 --repack-q8: mapped = --no-mmap; avx2 = file layout"
else bad "q8_0 --repack-q8: mapped = --no-mmap; avx2 = file layout" "$a
$c
$b
$d"; fi

expect "guard refuses"         1 "not loading it"     -- "$umi" run -p hi -n 4 --mem 0.0001
expect "guard suggests"        1 "--force"            -- "$umi" chat --mem 0.0001
expect "guard --force"         0 "first token"        -- "$umi" run -p hi -n 4 --mem 0.0001 --force
# The server's load guard: a model that does not fit the budget gets 507 with the numbers.
"$umi" serve --port 0 --port-file "$tmp/port" --mem 0.0001 >"$tmp/serve.log" 2>&1 &
srv=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
code=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$(cat "$tmp/port" 2>/dev/null)/api/generate" \
       -d '{"model":"stories260K","prompt":"hi","stream":false}')
kill $srv 2>/dev/null; wait $srv 2>/dev/null
if [ "$code" = 507 ] && grep -q "GiB is available" "$tmp/body"; then ok "serve guard 507"; else bad "serve guard 507" "$code $(cat "$tmp/body")"; fi
# Metrics: after one request, Prometheus counters and the TTFT histogram name the model.
rm -f "$tmp/port"
"$umi" serve --port 0 --port-file "$tmp/port" >"$tmp/serve.log" 2>&1 &
srv=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
base="http://127.0.0.1:$(cat "$tmp/port" 2>/dev/null)"
curl -s --max-time 20 "$base/api/generate" -d '{"model":"stories260K","prompt":"Once","stream":false,"options":{"num_predict":4}}' >/dev/null
metrics=$(curl -s --max-time 20 "$base/metrics")
kill $srv 2>/dev/null; wait $srv 2>/dev/null
if grep -q '^umi_requests_total{model="stories260K"} 1$' <<<"$metrics" && \
   grep -q '^umi_time_to_first_token_seconds_count{model="stories260K"} 1$' <<<"$metrics" && \
   grep -q '^# TYPE umi_generated_tokens_total counter$' <<<"$metrics"; then ok "serve /metrics"; else bad "serve /metrics" "$metrics"; fi
expect "bench json"            0 '"tg_tps": [0-9]'  -- "$umi" bench -p 16 -n 8 -r 1 --json
expect "bench bad reps"        2 "at least 1"         -- "$umi" bench -r 0
expect "bench depth json"      0 '"n_depth": 24'      -- "$umi" bench -p 8 -n 4 -d 24 -r 1 --json
expect "bench depth label"     0 "tg4 .* @ d24"       -- "$umi" bench -p 0 -n 4 -d 24 -r 1
expect "bench bad depth"       2 "not negative"       -- "$umi" bench -d -1
expect "bench bad probe-every" 2 "not negative"       -- "$umi" bench --probe-every -1
# the plan check probes before the runs, after each and (here after every
# token but the last) within a tg run; 0 keeps them between runs
expect "bench probes within"   0 '"plan_probes": 4'   -- "$umi" bench -p 0 -n 3 -r 1 --probe-every 0.000001 --json
expect "bench probes between"  0 '"plan_probes": 3'   -- "$umi" bench -p 0 -n 4 -r 2 --probe-every 0 --json
expect "bench depth too deep"  2 "larger than umi supports" -- "$umi" bench -p 0 -n 8 -d 2147483647

# Chat: ChatML fallback announced, replies streamed, the second turn reuses the cache.
out=$(printf 'Hello there\nWhat next?\n/clear\nAgain\n/exit\n' | "$umi" chat -n 12 --temp 0 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q "using ChatML" <<<"$out" && grep -qE "\(([1-9][0-9]*) cached\)" <<<"$out" \
   && [ "$(grep -o '\[prompt' <<<"$out" | wc -l)" -eq 3 ]; then ok "chat turns reuse the cache"; else bad "chat" "$out"; fi
expect "template renders"      0 "<\|im_start\|>user" -- "$umi" template --template "$shared/templates/jinja/Qwen3.5-4B.jinja" --input "$shared/templates/cases/Qwen3.5-4B.hello.json"
expect "template missing file" 1 "cannot read"        -- "$umi" template --template "$tmp/none.jinja" --input "$shared/templates/cases/Qwen3.5-4B.hello.json"
printf '{%% for x in %%}' > "$tmp/bad.jinja"
expect "template syntax error" 1 "line 1"             -- "$umi" template --template "$tmp/bad.jinja" --input "$shared/templates/cases/Qwen3.5-4B.hello.json"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
