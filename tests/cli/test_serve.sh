#!/usr/bin/env bash
# `umi serve` end to end on loopback, with curl: SSE and NDJSON framing, the
# prefix cache, models from --models-dir loaded on first use, concurrent
# requests giving the same text as alone, a client disconnect freeing its
# slot, a corpus of bad requests (each the right 4xx, the server keeps
# serving), the API key, and a clean shutdown.
# usage: test_serve.sh UMI SRC_DIR SHARED_DIR
set -u
umi=$1 src=$2 shared=$3
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
source "$src/tests/e2e/serve_lib.sh"

M=stories260K
# The shared models plus one of an architecture umi does not run (deepseek2's file renamed).
mkdir "$tmp/models" && ln -s "$shared"/models/*.gguf "$tmp/models/"
LC_ALL=C sed 's/deepseek2/deepseek9/g' "$shared/models/rnd-deepseek2-f32.gguf" > "$tmp/models/rnd-deepseek9-f32.gguf"
start_server main -m "$src/models/stories260K.gguf" --models-dir "$tmp/models" --parallel 2 \
             --ctx-size 2048 --max-body 1 -t 1

# ---------------------------------------------------------------- basics
is "health" "$(http GET /health)" 200
is "models lists the pinned model" "$(http GET /v1/models; echo " $(json "'$M' in [m['id'] for m in j['data']]")")" "200 True"
is "models lists the directory" "$(json "'rnd-llama-q4_0' in [m['id'] for m in j['data']]")" True
is "version" "$(http GET /api/version; echo " $(json "j['version']")")" "200 0.1.0"

# ---------------------------------------------------------------- SSE framing
chat='{"model":"'$M'","messages":[{"role":"user","content":"Tell me a story."}],"max_tokens":20,"temperature":0'
curl -sN --max-time 60 -D "$tmp/hdr" -o "$tmp/sse" "$base/v1/chat/completions" -d "$chat"',"stream":true}'
grep -qi '^content-type: text/event-stream' "$tmp/hdr" && ok "SSE content type" || bad "SSE content type" "$(cat "$tmp/hdr")"
python3 - "$tmp/sse" <<'EOF' && ok "SSE framing: data events, blank-line separated, ending data: [DONE]" || bad "SSE framing"
import json, sys
raw = open(sys.argv[1]).read()
assert raw.endswith("data: [DONE]\n\n"), raw[-60:]
events = raw.split("\n\n")[:-1]
assert len(events) >= 3
for ev in events[:-1]:
    assert ev.startswith("data: ") and "\n" not in ev, ev
    o = json.loads(ev[6:])
    assert o["object"] == "chat.completion.chunk" and len(o["choices"]) == 1
last = json.loads(events[-2][6:])
assert last["choices"][0]["finish_reason"] == "length"
EOF
stream_text=$(sse_text "$tmp/sse")
http POST /v1/chat/completions "$chat}" >/dev/null
is "SSE text equals the non-streaming reply" "$stream_text" "$(json "j['choices'][0]['message']['content']")"
is "repeated prompt served from the prefix cache" "$(json "j['usage']['prompt_tokens_details']['cached_tokens'] > 0")" True
is "usage and timings" "$(json "j['usage']['completion_tokens'], 'predicted_per_second' in j['timings']")" "20 True"

# ---------------------------------------------------------------- NDJSON framing
curl -sN --max-time 60 -D "$tmp/hdr" -o "$tmp/nd" "$base/api/generate" \
     -d '{"model":"'$M'","prompt":"Once upon a time","options":{"temperature":0,"num_predict":12}}'
grep -qi '^content-type: application/x-ndjson' "$tmp/hdr" && ok "NDJSON content type" || bad "NDJSON content type"
python3 - "$tmp/nd" <<'EOF' && ok "NDJSON framing: one object per line, done last, ns durations" || bad "NDJSON framing"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "", "ends with a newline"
objs = [json.loads(l) for l in lines[:-1]]
assert all(o["done"] is False for o in objs[:-1]) and objs[-1]["done"] is True
assert objs[-1]["eval_count"] == 12 and objs[-1]["done_reason"] == "length"
assert objs[-1]["total_duration"] >= objs[-1]["eval_duration"] > 1000
EOF

# ---------------------------------------------------------------- load on first use
is "a directory model loads on first use" \
   "$(http POST /api/generate '{"model":"rnd-llama-q4_0","prompt":"hello","stream":false,"options":{"num_predict":4}}')" 200
is "ps shows it" "$(http GET /api/ps >/dev/null; json "'rnd-llama-q4_0' in [m['name'] for m in j['models']]")" True
is "name:latest resolves" "$(http POST /api/show '{"model":"'$M':latest"}')" 200

# ---------------------------------------------------------------- concurrency
# 8 concurrent greedy requests (2 slots, the rest queued) each give exactly the text they give alone.
for i in $(seq 8); do
    body='{"model":"'$M'","prompt":"Once upon a time '$i'","max_tokens":24,"temperature":0,"cache_prompt":false}'
    http POST /v1/completions "$body" >/dev/null; json "j['choices'][0]['text']" > "$tmp/alone$i"
    echo "$body" > "$tmp/req$i"
done
for i in $(seq 8); do
    curl -s --max-time 60 -o "$tmp/conc$i.json" "$base/v1/completions" --data-binary @"$tmp/req$i" &
done
wait $(jobs -p | grep -v "^${server_pid}$") 2>/dev/null
same=0
for i in $(seq 8); do
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['choices'][0]['text'])" "$tmp/conc$i.json" \
        2>/dev/null | cmp -s - "$tmp/alone$i" && same=$((same + 1))
done
is "8 concurrent greedy requests equal their solo text" "$same" 8

# ---------------------------------------------------------------- disconnect
# Two long streams (2,000 tokens each); the clients hang up; both slots must free at once.
for i in 1 2; do
    curl -sN --max-time 2 -o /dev/null "$base/v1/completions" \
         -d '{"model":"'$M'","prompt":"Once","max_tokens":2000,"temperature":1,"stream":true}' &
    pids[$i]=$!
done
sleep 0.4
http GET /health >/dev/null; busy=$(json "j['slots_busy']")
kill "${pids[1]}" "${pids[2]}" 2>/dev/null; wait "${pids[1]}" "${pids[2]}" 2>/dev/null
for _ in $(seq 20); do http GET /health >/dev/null; [ "$(json "j['slots_busy']")" = 0 ] && break; sleep 0.05; done
is "client disconnect frees the slots (busy $busy before)" "$busy $(json "j['slots_busy']")" "2 0"

# ---------------------------------------------------------------- bad requests
# expect METHOD PATH BODY STATUS: the status, and the error shape of the API family.
n_bad=0
expect() {
    local method=$1 path=$2 body=$3 want=$4 got shape
    n_bad=$((n_bad + 1))
    if [ "$body" = "-" ]; then got=$(http "$method" "$path"); else got=$(http "$method" "$path" "$body"); fi
    case $path in
    /v1/*) shape=$(json "isinstance(j['error']['message'], str) and isinstance(j['error']['type'], str) and isinstance(j['error']['code'], str)") ;;
    *)     shape=$(json "isinstance(j['error'], str) and len(j['error']) > 0") ;;
    esac
    if [ "$got" = "$want" ] && [ "$shape" = True ]; then ok "bad request: $method $path $want ${body:0:50}"
    else bad "bad request: $method $path ${body:0:60} (got $got, shape $shape, want $want)" "$(head -c 300 "$tmp/body")"; fi
}
C=/v1/chat/completions T=/v1/completions
msgs='"messages":[{"role":"user","content":"hi"}]'
long=$(python3 -c "print('hello ' * 3000)")
expect POST $C '{'                                                   400
expect POST $C ''                                                    400
expect POST $C '[]'                                                  400
expect POST $C 'null'                                                400
expect POST $C '{"model":"'$M'"} trailing'                           400
expect POST $C '{"model":"'$M'"}'                                    400
expect POST $C '{"model":"'$M'","messages":[]}'                      400
expect POST $C '{"model":"'$M'","messages":"hi"}'                    400
expect POST $C '{"model":"'$M'","messages":[1]}'                     400
expect POST $C '{"model":"'$M'","messages":[{"content":"x"}]}'       400
expect POST $C '{"model":"'$M'","messages":[{"role":"user","content":5}]}' 400
expect POST $C '{"model":"'$M'","messages":[{"role":"user","content":[{"type":"image_url"}]}]}' 400
expect POST $C '{"model":"no-such-model",'"$msgs"'}'                 404
expect POST $C '{"model":7,'"$msgs"'}'                               400
expect POST $C '{"model":"../models/'$M'",'"$msgs"'}'                404
expect POST $C '{"model":"/etc/passwd",'"$msgs"'}'                   404
expect POST $C '{"model":"'$M'",'"$msgs"',"temperature":"hot"}'      400
expect POST $C '{"model":"'$M'",'"$msgs"',"temperature":5}'          400
expect POST $C '{"model":"'$M'",'"$msgs"',"top_p":2}'                400
expect POST $C '{"model":"'$M'",'"$msgs"',"max_tokens":-1}'          400
expect POST $C '{"model":"'$M'",'"$msgs"',"max_tokens":1.5}'         400
expect POST $C '{"model":"'$M'",'"$msgs"',"n":2}'                    400
expect POST $C '{"model":"'$M'",'"$msgs"',"stop":5}'                 400
expect POST $C '{"model":"'$M'",'"$msgs"',"stop":[1]}'               400
expect POST $C '{"model":"'$M'",'"$msgs"',"stream":"yes"}'           400
expect POST $C '{"model":"'$M'",'"$msgs"',"seed":"x"}'               400
expect POST $C '{"model":"'$M'",'"$msgs"',"logprobs":true,"top_logprobs":99}' 400
expect POST $C '{"model":"'$M'",'"$msgs"',"top_logprobs":2}'         400
expect POST $C '{"model":"'$M'",'"$msgs"',"logprobs":"yes"}'         400
expect POST $C '{"model":"'$M'",'"$msgs"',"stream_options":1}'       400
expect POST $C '{"model":"'$M'",'"$msgs"',"response_format":{"type":"xml"}}' 400
expect POST $C '{"model":"'$M'",'"$msgs"',"response_format":"json"}'  400
expect POST $C '{"model":"'$M'",'"$msgs"',"response_format":{"type":"json_schema","json_schema":{}}}' 400
expect POST $C '{"model":"'$M'","messages":[{"role":"user","content":"'"$long"'"}]}' 400
expect POST $C '{"model":"'$M'","messages":[{"role":"user","content":"'"$long"'"}],"stream":true}' 400
expect POST $C '{"model":"rnd-deepseek9-f32",'"$msgs"'}'             400
expect GET  $C -                                                     405
expect POST /v1/nope '{}'                                            404
expect POST $T '{"model":"'$M'"}'                                    400
expect POST $T '{"model":"'$M'","prompt":5}'                         400
expect POST $T '{"model":"'$M'","prompt":"'"$long"'"}'               400
expect POST $T '{"model":"'$M'","prompt":"hi","logprobs":99}'        400
E=/v1/embeddings
expect POST $E '{"model":"'$M'","input":""}'                         400
expect POST $E '{"model":"'$M'","input":[]}'                         400
expect POST $E '{"model":"'$M'"}'                                    400
expect POST $E '{"model":"'$M'","input":5}'                          400
expect POST $E '{"model":"'$M'","input":[[]]}'                       400
expect POST $E '{"model":"'$M'","input":[[1,99999999]]}'             400
expect POST $E '{"model":"'$M'","input":"hi","encoding_format":"hex"}' 400
expect POST $E '{"model":"'$M'","input":"hi","dimensions":0}'        400
expect POST $E '{"model":"'$M'","input":"hi","dimensions":"8"}'      400
expect POST $E '{"model":"'$M'","input":"hi","dimensions":99999}'    400
expect POST $E '{"model":"no-such-model","input":"hi"}'              404
expect POST /api/embed '{"model":"'$M'","input":""}'                 400
expect POST /api/embed '{"model":"'$M'","input":[1]}'                400
expect POST /api/embed '{"model":"'$M'","input":"hi","truncate":"no"}' 400
expect POST /api/embeddings '{"model":"'$M'","prompt":5}'            400
expect POST /api/chat '{'                                            400
expect POST /api/chat '{"model":"'$M'","messages":[]}'               400
expect POST /api/chat '{"model":"no-such-model",'"$msgs"'}'          404
expect POST /api/chat '{"model":"'$M'",'"$msgs"',"format":"yaml"}'   400
expect POST /api/chat '{"model":"'$M'",'"$msgs"',"format":{"type":"object","patternProperties":{}}}' 400
expect POST /api/chat '{"model":"'$M'",'"$msgs"',"logprobs":true,"top_logprobs":21}' 400
expect POST /api/chat '{"model":"'$M'",'"$msgs"',"stream":1}'        400
expect POST /api/generate '{"model":"'$M'","prompt":"hi","options":"x"}'                      400
expect POST /api/generate '{"model":"'$M'","prompt":"hi","options":{"num_predict":"x"}}'      400
expect POST /api/generate '{"model":"'$M'","prompt":"hi","options":{"temperature":-1}}'       400
expect POST /api/generate '{"model":"'$M'","prompt":"hi","options":{"num_ctx":1.5}}'          400
expect POST /api/generate '{"model":"'$M'","prompt":5}'                                       400
expect POST /api/generate '{"model":"'$M'","prompt":"'"$long"'","options":{"num_ctx":1024}}' 400
expect POST /api/show '{}'                                           400
expect POST /api/show '{"model":"no-such-model"}'                    404
expect DELETE /api/tags -                                            405
expect GET /api/nope -                                               404
# Oversize bodies (--max-body 1 MiB): declared, and chunked without a length.
head -c 2000000 /dev/zero | tr '\0' ' ' > "$tmp/big"
got=$(curl -s --max-time 30 -o "$tmp/body" -w '%{http_code}' "$base/v1/chat/completions" --data-binary @"$tmp/big")
is "bad request: oversize body (Content-Length) is 413" "$got $(json "j['error']['code']")" "413 body_too_large"
got=$(curl -s --max-time 30 -o "$tmp/body" -w '%{http_code}' -H 'Transfer-Encoding: chunked' "$base/api/chat" --data-binary @"$tmp/big")
is "bad request: oversize chunked body is 413" "$got" 413
n_bad=$((n_bad + 2))
[ "$n_bad" -ge 30 ] && ok "bad-request corpus has $n_bad cases" || bad "corpus too small ($n_bad)"
is "still serving after the corpus" "$(http POST /v1/completions '{"prompt":"Once","max_tokens":3}')" 200

# ---------------------------------------------------------------- API key
main_pid=$server_pid main_base=$base
start_server auth -m "$src/models/stories260K.gguf" --api-key sekret -t 1
is "api key: /health is open" "$(http GET /health)" 200
is "api key: missing is 401 (OpenAI shape)" "$(http GET /v1/models; echo " $(json "j['error']['code']")")" "401 invalid_api_key"
is "api key: missing is 401 (Ollama shape)" "$(http GET /api/tags; echo " $(json "type(j['error']).__name__")")" "401 str"
is "api key: wrong is 401" "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$base/v1/models")" 401
is "api key: right is 200" "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sekret' "$base/v1/models")" 200
stop_server "$server_pid" && ok "api-key server exits cleanly on SIGTERM" || bad "api-key server shutdown" "$(tail -5 "$tmp/auth.log")"

# ---------------------------------------------------------------- shutdown
base=$main_base
if stop_server "$main_pid"; then ok "server exits cleanly on SIGTERM"; else bad "server shutdown" "$(tail -20 "$tmp/main.log")"; fi
if grep -q "ERROR: AddressSanitizer\|runtime error" "$tmp"/*.log; then bad "sanitizer reports" "$(grep -h -A5 'ERROR\|runtime error' "$tmp"/*.log)"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
