#!/usr/bin/env bash
# Serving benchmark (not a test): continuous batching and the prefix cache.
#  1. aggregate generation speed of 1 stream vs S concurrent streams (short
#     prompts, N greedy tokens each): total tokens / wall time, alternating
#     ROUNDS times, each round's ratio and their median;
#  2. time to first token of a request with a ~2,000-token system prompt,
#     then of a second request with the same system prompt and another
#     question (its prefix comes from the cache).
# usage: bench/serve_concurrency.sh [MODEL.gguf]   (env: UMI=build/umi T=threads S=4 N=64 ROUNDS=3)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-/work/bench-models/bench-1b-q4_0.gguf}
umi=${UMI:-$src/build/umi} T=${T:-2} S=${S:-4} N=${N:-64} ROUNDS=${ROUNDS:-3}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
"$umi" serve -m "$model" --host 127.0.0.1 --port 0 --port-file "$tmp/port" --parallel "$S" \
       --ctx-size 4096 -t "$T" 2>"$tmp/log" &
pid=$!
for _ in $(seq 300); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { cat "$tmp/log"; exit 1; }
name=$(basename "$model" .gguf)

python3 - "http://127.0.0.1:$(cat "$tmp/port")" "$name" "$S" "$N" "$ROUNDS" <<'PY'
import json, sys, threading, time, urllib.request
base, model, S, N, ROUNDS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=3600)

def complete(i, out):
    body = {"model": model, "prompt": f"Stream {i} says:", "max_tokens": N, "temperature": 0,
            "cache_prompt": False}
    out[i] = json.load(post("/v1/completions", body))["usage"]["completion_tokens"]

def streams(k):
    out = [0] * k
    t0 = time.time()
    th = [threading.Thread(target=complete, args=(i, out)) for i in range(k)]
    for t in th: t.start()
    for t in th: t.join()
    dt = time.time() - t0
    return sum(out), dt

def ttft(system, question):
    body = {"model": model, "messages": [{"role": "system", "content": system},
                                         {"role": "user", "content": question}],
            "max_tokens": 4, "temperature": 0, "stream": True}
    t0 = time.time()
    with post("/v1/chat/completions", body) as r:
        for line in r:
            if line.startswith(b"data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                first = time.time() - t0
                break
        for _ in r: pass
    return first

complete(0, [0])  # warm up: weights paged in, contexts made
# One stream and S streams alternate, ROUNDS times: this VM's memory speed
# drifts from minute to minute, so each ratio compares neighbours in time.
ratios = []
for rnd in range(ROUNDS):
    tok1, dt1 = streams(1)
    tokS, dtS = streams(S)
    r1, rS = tok1 / dt1, tokS / dtS
    ratios.append(rS / r1)
    print(f"round {rnd + 1}: 1 stream {tok1} tokens in {dt1:.2f} s = {r1:.2f} tokens/s; "
          f"{S} streams {tokS} tokens in {dtS:.2f} s = {rS:.2f} tokens/s aggregate ({rS / r1:.2f}x)")
ratios.sort()
print(f"generation, {S} streams / 1 stream: median {ratios[len(ratios) // 2]:.2f}x "
      f"(rounds: {', '.join(f'{r:.2f}x' for r in ratios)})")

words = "the quick brown fox jumps over the lazy dog while a small bird sings in the old tree".split()
system = "You are a careful assistant. " + " ".join(words[(i * 7) % len(words)] for i in range(1900))
cold = ttft(system, "What is the first word?")
warm = ttft(system, "What is the last word?")
print(f"TTFT, ~2,000-token system prompt: first request {cold * 1e3:.0f} ms, "
      f"second (prefix cache) {warm * 1e3:.0f} ms ({cold / warm:.1f}x lower)")
PY
curl -s "http://127.0.0.1:$(cat "$tmp/port")/metrics" | grep -E '^umi_decode_batch_sequences_(bucket|count)' | sed 's/^/  /'
