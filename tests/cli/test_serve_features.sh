#!/usr/bin/env bash
# `umi serve` features beyond plain generation, with curl: embeddings (OpenAI
# and Ollama shapes, unit L2 norm, the same input giving the same vector,
# base64), logprobs (chat, legacy completions, streaming, Ollama; greedy picks
# the top alternative, every value <= 0), JSON output (response_format
# json_object, Ollama format json, streaming) that parses, JSON-schema output
# (OpenAI json_schema, Ollama format as a schema, streamed and not) that
# validates, unsupported schemas refused with 400, and `umi run --json`.
# usage: test_serve_features.sh UMI SRC_DIR SHARED_DIR
set -u
umi=$1 src=$2 shared=$3
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
source "$src/tests/e2e/serve_lib.sh"

M=stories260K
# A random-weight model that closes its JSON objects within a few hundred tokens when greedy.
J=rnd-llama-q8_0
start_server feat -m "$src/models/stories260K.gguf" --models-dir "$shared/models" --parallel 2 --ctx-size 1024 -t 1

# ---------------------------------------------------------------- embeddings
is "openai embeddings: two inputs" "$(http POST /v1/embeddings '{"model":"'$M'","input":["Once upon a time","Once upon a time","a dog"]}')" 200
is "openai embeddings: shape" "$(json "j['object'], [d['object'] for d in j['data']], [d['index'] for d in j['data']], j['model'], j['usage']['prompt_tokens'] == j['usage']['total_tokens'] > 0")" \
   "list ['embedding', 'embedding', 'embedding'] [0, 1, 2] $M True"
is "openai embeddings: n_embd floats of L2 norm 1" \
   "$(json "[len(d['embedding']) for d in j['data']], all(abs(sum(x*x for x in d['embedding']) - 1) < 1e-4 for d in j['data'])")" "[64, 64, 64] True"
is "openai embeddings: identical inputs, identical vectors; different ones differ" \
   "$(json "j['data'][0]['embedding'] == j['data'][1]['embedding'], j['data'][0]['embedding'] != j['data'][2]['embedding']")" "True True"
json "j['data'][0]['embedding']" > "$tmp/vec"
http POST /v1/embeddings '{"model":"'$M'","input":"Once upon a time"}' >/dev/null
is "openai embeddings: the same alone as in a batch" "$(json "j['data'][0]['embedding']")" "$(cat "$tmp/vec")"
is "openai embeddings: dimensions 16" \
   "$(http POST /v1/embeddings '{"model":"'$M'","input":"Once upon a time","dimensions":16}')" 200
is "openai embeddings: dimensions gives the first 16 components, renormalized" \
   "$(python3 -c "
import json,sys
full = json.load(open(sys.argv[1])); short = json.load(open(sys.argv[2]))['data'][0]['embedding']
n = sum(x*x for x in full[:16]) ** 0.5
print(len(short), abs(sum(x*x for x in short) - 1) < 1e-4, all(abs(a - b / n) < 1e-5 for a, b in zip(short, full)))" "$tmp/vec" "$tmp/body")" \
   "16 True True"
http POST /v1/embeddings '{"model":"'$M'","input":"Once upon a time","encoding_format":"base64"}' >/dev/null
is "openai embeddings: base64 is the float32 little-endian vector" \
   "$(python3 -c "
import json,sys,base64,struct
j=json.load(open(sys.argv[1])); v=json.loads(open(sys.argv[2]).read().replace(\"'\",'\"'))
b=base64.b64decode(j['data'][0]['embedding']); f=struct.unpack('<%df' % (len(b)//4), b)
print(len(f) == len(v) and all(abs(a-c) < 1e-6 for a, c in zip(f, v)))" "$tmp/body" "$tmp/vec")" True
is "openai embeddings: token-id input" "$(http POST /v1/embeddings '{"model":"'$M'","input":[[1,2,3],[1,2,3]]}'; echo " $(json "j['data'][0]['embedding'] == j['data'][1]['embedding'], j['usage']['prompt_tokens']")")" "200 True 6"
is "ollama embed: shape" "$(http POST /api/embed '{"model":"'$M'","input":["Once upon a time","a dog"]}'; echo " $(json "j['model'], len(j['embeddings']), [len(e) for e in j['embeddings']], j['prompt_eval_count'] > 0, j['total_duration'] > 0, 'load_duration' in j")")" \
   "200 $M 2 [64, 64] True True True"
is "ollama embed: same vector as OpenAI's" "$(json "j['embeddings'][0]")" "$(cat "$tmp/vec")"
is "ollama embed: a plain string" "$(http POST /api/embed '{"model":"'$M'","input":"Once upon a time"}'; echo " $(json "len(j['embeddings'])")")" "200 1"
is "ollama legacy embeddings" "$(http POST /api/embeddings '{"model":"'$M'","prompt":"Once upon a time"}'; echo " $(json "j['embedding'] == $(cat "$tmp/vec")")")" "200 True"
is "embeddings of another architecture (qwen2, loaded on first use)" \
   "$(http POST /v1/embeddings '{"model":"rnd-qwen2-q8_0","input":"hello"}'; echo " $(json "abs(sum(x*x for x in j['data'][0]['embedding']) - 1) < 1e-4")")" "200 True"
long=$(python3 -c "print('hello ' * 1500)")
is "openai embeddings: longer than the context is 400" "$(http POST /v1/embeddings '{"model":"'$M'","input":"'"$long"'"}'; echo " $(json "j['error']['code']")")" "400 context_length_exceeded"
is "ollama embed truncates by default" "$(http POST /api/embed '{"model":"'$M'","input":"'"$long"'"}'; echo " $(json "j['prompt_eval_count']")")" "200 1024"
is "ollama embed with truncate false is 400" "$(http POST /api/embed '{"model":"'$M'","input":"'"$long"'","truncate":false}')" 400
is "generation still right after embeddings on the same slots" \
   "$(http POST /v1/completions '{"model":"'$M'","prompt":"Once upon a time","max_tokens":8,"temperature":0}'; echo " $(json "j['choices'][0]['text']")")" \
   "200 $("$umi" run -m "$src/models/stories260K.gguf" -p "Once upon a time" -n 8 --temp 0 -t 1 2>/dev/null | sed 's/^Once upon a time//')"

# ---------------------------------------------------------------- logprobs
chat='{"model":"'$M'","messages":[{"role":"user","content":"Tell me a story."}],"max_tokens":12,"temperature":0'
is "chat logprobs" "$(http POST /v1/chat/completions "$chat"',"logprobs":true,"top_logprobs":3}')" 200
python3 - "$tmp/body" <<'EOF' && ok "chat logprobs: one entry per token, greedy = top alternative, values <= 0, bytes" || bad "chat logprobs shape" "$(head -c 600 "$tmp/body")"
import json, sys
j = json.load(open(sys.argv[1]))
c = j["choices"][0]
content = c["logprobs"]["content"]
assert len(content) == j["usage"]["completion_tokens"] == 12, len(content)
assert "".join(e["token"] for e in content) == c["message"]["content"]
for e in content:
    assert e["logprob"] <= 0 and len(e["top_logprobs"]) == 3
    assert e["top_logprobs"][0]["token"] == e["token"] and e["top_logprobs"][0]["logprob"] == e["logprob"]
    assert e["top_logprobs"][0]["logprob"] >= e["top_logprobs"][1]["logprob"] >= e["top_logprobs"][2]["logprob"]
    assert bytes(e["bytes"]).decode() == e["token"]
EOF
cp "$tmp/body" "$tmp/lpwhole"
is "chat without logprobs has logprobs null" "$(http POST /v1/chat/completions "$chat}"; echo " $(json "j['choices'][0]['logprobs']")")" "200 None"
curl -sN --max-time 60 -o "$tmp/sse" "$base/v1/chat/completions" -d "$chat"',"logprobs":true,"top_logprobs":2,"stream":true}'
python3 - "$tmp/sse" "$tmp/lpwhole" <<'EOF' && ok "chat logprobs streamed: the same entries, chunk by chunk" || bad "chat logprobs streamed" "$(head -c 600 "$tmp/sse")"
import json, sys
whole = json.load(open(sys.argv[2]))["choices"][0]
got = []
for ev in open(sys.argv[1]).read().split("\n\n"):
    if ev.startswith("data: {"):
        c = json.loads(ev[6:])["choices"][0]
        if c.get("logprobs"): got += c["logprobs"]["content"]
want = whole["logprobs"]["content"]
assert [e["token"] for e in got] == [e["token"] for e in want], got
assert all(len(e["top_logprobs"]) == 2 and e["top_logprobs"][0]["token"] == e["token"] for e in got)
EOF
is "completions logprobs (legacy shape)" "$(http POST /v1/completions '{"model":"'$M'","prompt":"Once upon a time","max_tokens":6,"temperature":0,"logprobs":2}')" 200
python3 - "$tmp/body" <<'EOF' && ok "completions logprobs: tokens, token_logprobs, top_logprobs, text_offset agree" || bad "completions logprobs" "$(head -c 600 "$tmp/body")"
import json, sys
c = json.load(open(sys.argv[1]))["choices"][0]
lp = c["logprobs"]
n = len(lp["tokens"])
assert n == 6 and len(lp["token_logprobs"]) == n and len(lp["top_logprobs"]) == n and len(lp["text_offset"]) == n
assert "".join(lp["tokens"]) == c["text"]
off = 0
for t, l, top, o in zip(lp["tokens"], lp["token_logprobs"], lp["top_logprobs"], lp["text_offset"]):
    assert o == off and l <= 0 and max(top.values()) == l and top[t] == l
    off += len(t.encode())
EOF
# A stop string: the tokens from the one it begins in are not in the logprobs,
# streamed or not (the stop string is a later token's text, found nowhere earlier).
stop=$(python3 -c "
import json,sys
t=json.load(open(sys.argv[1]))['choices'][0]['logprobs']['tokens']
print(json.dumps(next(x for i, x in enumerate(t) if i >= 3 and x.strip() and x not in ''.join(t[:i]))))" "$tmp/body")
is "completions logprobs with a stop string" "$(http POST /v1/completions '{"model":"'$M'","prompt":"Once upon a time","max_tokens":6,"temperature":0,"logprobs":2,"stop":['"$stop"']}')" 200
cp "$tmp/body" "$tmp/lpstop"
python3 - "$tmp/body" "$stop" <<'EOF' && ok "logprobs end where the stop string begins" || bad "logprobs with a stop string" "$(head -c 600 "$tmp/body")"
import json, sys
c = json.load(open(sys.argv[1]))["choices"][0]
assert c["finish_reason"] == "stop" and json.loads(sys.argv[2]) not in c["text"]
assert "".join(c["logprobs"]["tokens"]) == c["text"], (c["logprobs"]["tokens"], c["text"])
EOF
curl -sN --max-time 60 -o "$tmp/sse" "$base/v1/completions" -d '{"model":"'$M'","prompt":"Once upon a time","max_tokens":6,"temperature":0,"logprobs":2,"stream":true,"stop":['"$stop"']}'
python3 - "$tmp/sse" "$tmp/lpstop" <<'EOF' && ok "logprobs with a stop string, streamed: the same tokens" || bad "streamed logprobs with a stop string" "$(head -c 600 "$tmp/sse")"
import json, sys
got = []
for ev in open(sys.argv[1]).read().split("\n\n"):
    if ev.startswith("data: {"):
        c = json.loads(ev[6:])["choices"][0]
        if c.get("logprobs"): got += c["logprobs"]["tokens"]
assert got == json.load(open(sys.argv[2]))["choices"][0]["logprobs"]["tokens"], got
EOF
is "ollama generate logprobs" "$(http POST /api/generate '{"model":"'$M'","prompt":"Once upon a time","stream":false,"logprobs":true,"top_logprobs":1,"options":{"temperature":0,"num_predict":5}}'; echo " $(json "len(j['logprobs']), all(e['logprob'] <= 0 and e['top_logprobs'][0]['token'] == e['token'] for e in j['logprobs']), ''.join(e['token'] for e in j['logprobs']) == j['response']")")" "200 5 True True"

# ---------------------------------------------------------------- JSON output
jchat='{"model":"'$J'","messages":[{"role":"user","content":"Reply in JSON."}],"max_tokens":600,"temperature":0,"response_format":{"type":"json_object"}'
is "response_format json_object" "$(http POST /v1/chat/completions "$jchat}"; echo " $(json "j['choices'][0]['finish_reason']")")" "200 stop"
is "response_format json_object: the content parses as a JSON object" \
   "$(json "type(json.loads(j['choices'][0]['message']['content'])).__name__")" dict
json "j['choices'][0]['message']['content']" > "$tmp/jwhole"
curl -sN --max-time 60 -o "$tmp/sse" "$base/v1/chat/completions" -d "$jchat"',"stream":true}'
is "response_format json_object streamed: the same object" "$(sse_text "$tmp/sse")" "$(cat "$tmp/jwhole")"
is "response_format json_object with temperature parses" \
   "$(http POST /v1/chat/completions '{"model":"'$J'","messages":[{"role":"user","content":"JSON"}],"max_tokens":900,"temperature":0.7,"top_k":5,"seed":3,"response_format":{"type":"json_object"}}'; echo " $(json "type(json.loads(j['choices'][0]['message']['content'])).__name__ if j['choices'][0]['finish_reason'] == 'stop' else 'length'")")" "200 dict"
is "ollama format json" "$(http POST /api/chat '{"model":"'$J'","messages":[{"role":"user","content":"JSON please"}],"format":"json","stream":false,"options":{"temperature":0,"num_predict":600}}'; echo " $(json "j['done_reason'], type(json.loads(j['message']['content'])).__name__")")" "200 stop dict"
is "ollama generate format json" "$(http POST /api/generate '{"model":"'$J'","prompt":"JSON please","format":"json","stream":false,"options":{"temperature":0,"num_predict":600}}'; echo " $(json "type(json.loads(j['response'])).__name__")")" "200 dict"
# ---------------------------------------------------------------- JSON schema output
# The output must validate (tests/e2e/schema_valid.py checks the subset).
S='{"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer","minimum":18,"exclusiveMaximum":130},"color":{"enum":["red","green","blue"]},"tags":{"type":"array","items":{"type":"string","maxLength":8},"maxItems":3},"ok":{"type":"boolean"},"score":{"type":["number","null"]},"pet":{"$ref":"#/$defs/pet"}},"required":["name","age","color","tags","ok","score","pet"],"additionalProperties":false,"$defs":{"pet":{"anyOf":[{"type":"object","properties":{"kind":{"const":"cat"},"lives":{"type":"integer"}},"required":["kind"]},{"type":"null"}]}}}'
valid() { python3 "$src/tests/e2e/schema_valid.py" "$1" "$2"; }
schat='{"model":"'$J'","messages":[{"role":"user","content":"Reply in JSON."}],"max_tokens":900,"temperature":0,"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":'"$S"'}}'
is "response_format json_schema" "$(http POST /v1/chat/completions "$schat}"; echo " $(json "j['choices'][0]['finish_reason']")")" "200 stop"
json "j['choices'][0]['message']['content']" > "$tmp/swhole"
is "response_format json_schema: the content validates" "$(valid "$S" "$(cat "$tmp/swhole")")" valid
curl -sN --max-time 60 -o "$tmp/sse" "$base/v1/chat/completions" -d "$schat"',"stream":true}'
is "response_format json_schema streamed: the same value" "$(sse_text "$tmp/sse")" "$(cat "$tmp/swhole")"
for seed in 1 2; do
    http POST /v1/chat/completions '{"model":"'$J'","messages":[{"role":"user","content":"JSON"}],"max_tokens":900,"temperature":0.8,"seed":'$seed',"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":'"$S"'}}}' >/dev/null
    is "response_format json_schema, temperature 0.8 seed $seed: validates (or stops at the limit)" \
       "$(if [ "$(json "j['choices'][0]['finish_reason']")" = length ]; then echo valid; else valid "$S" "$(json "j['choices'][0]['message']['content']")"; fi)" valid
done
is "response_format json_schema without a schema: as json_object" \
   "$(http POST /v1/chat/completions '{"model":"'$J'","messages":[{"role":"user","content":"Reply in JSON."}],"max_tokens":600,"temperature":0,"response_format":{"type":"json_schema","json_schema":{"name":"any"}}}'; echo " $(json "j['choices'][0]['message']['content']")")" "200 $(cat "$tmp/jwhole")"
E='{"type":"object","properties":{"answer":{"enum":["yes","no",42,null]},"n":{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":2}},"required":["answer","n"]}'
is "legacy completions with response_format json_schema" \
   "$(http POST /v1/completions '{"model":"'$J'","prompt":"JSON:","max_tokens":600,"temperature":0,"response_format":{"type":"json_schema","json_schema":{"name":"e","schema":'"$E"'}}}'; echo " $(json "j['choices'][0]['finish_reason']") $(valid "$E" "$(json "j['choices'][0]['text']")")")" "200 stop valid"
is "ollama chat format schema" "$(http POST /api/chat '{"model":"'$J'","messages":[{"role":"user","content":"JSON please"}],"format":'"$S"',"stream":false,"options":{"temperature":0,"num_predict":900}}'; echo " $(json "j['done_reason']") $(valid "$S" "$(json "j['message']['content']")")")" "200 stop valid"
is "ollama generate format schema" "$(http POST /api/generate '{"model":"'$J'","prompt":"JSON please","format":'"$E"',"stream":false,"options":{"temperature":0,"num_predict":600}}'; echo " $(json "j['done_reason']") $(valid "$E" "$(json "j['response']")")")" "200 stop valid"
curl -sN --max-time 60 -o "$tmp/nd" "$base/api/generate" -d '{"model":"'$J'","prompt":"JSON please","format":'"$E"',"options":{"temperature":0,"num_predict":600}}'
is "ollama generate format schema streamed: the same value" "$(python3 -c "
import json,sys
print(''.join(json.loads(l).get('response','') for l in open(sys.argv[1]) if l.strip()))" "$tmp/nd")" "$(json "j['response']")"
# Schemas outside the subset: 400 naming the keyword, in each API's error shape.
is "json_schema with an unsupported keyword is 400 naming it" \
   "$(http POST /v1/chat/completions '{"model":"'$J'","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"a":{"type":"number","minimum":0}}}}}}'; echo " $(json "j['error']['type'], j['error']['code'], 'minimum' in j['error']['message'] and '/properties/a' in j['error']['message']")")" \
   "400 invalid_request_error invalid_value True"
is "json_schema that is not an object is 400" \
   "$(http POST /v1/chat/completions '{"model":"'$J'","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":"x"}}'; echo " $(json "j['error']['code']")")" "400 invalid_type"
is "json_schema with overlapping anyOf is 400" \
   "$(http POST /v1/chat/completions '{"model":"'$J'","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"anyOf":[{"type":"integer"},{"type":"number"}]}}}}'; echo " $(json "'different JSON types' in j['error']['message']")")" "400 True"
is "ollama format schema with an unsupported keyword is 400 naming it" \
   "$(http POST /api/chat '{"model":"'$J'","messages":[{"role":"user","content":"x"}],"stream":false,"format":{"type":"string","pattern":"^a"}}'; echo " $(json "'pattern' in j['error']")")" "400 True"
is "ollama format neither json nor a schema is 400" \
   "$(http POST /api/generate '{"model":"'$J'","prompt":"x","stream":false,"format":"yaml"}'; echo " $(json "j['error']")")" "400 'format' must be \"json\" or a JSON schema object"
is "umi run --json prints one JSON object" \
   "$("$umi" run -m "$shared/models/$J.gguf" -p "JSON:" --json -n 600 --temp 0 -t 1 2>/dev/null | python3 -c "import json,sys; print(type(json.load(sys.stdin)).__name__)")" dict
echo "$E" > "$tmp/schema.json"
is "umi run --json-schema prints one value that validates" \
   "$(valid "$E" "$("$umi" run -m "$shared/models/$J.gguf" -p "JSON:" --json-schema "$tmp/schema.json" -n 600 --temp 0 -t 1 2>/dev/null)")" valid
echo '{"type":"string","format":"email"}' > "$tmp/bad.json"
is "umi run --json-schema outside the subset: a usage error naming the keyword" \
   "$("$umi" run -p x --json-schema "$tmp/bad.json" 2>&1 >/dev/null; echo "rc=$?")" "umi: --json-schema $tmp/bad.json: schema at '/': 'format' is not supported
rc=2"

if stop_server "$server_pid"; then ok "server exits cleanly on SIGTERM"; else bad "server shutdown" "$(tail -20 "$tmp/feat.log")"; fi
if grep -q "ERROR: AddressSanitizer\|runtime error" "$tmp"/*.log; then bad "sanitizer reports" "$(grep -h -A5 'ERROR\|runtime error' "$tmp"/*.log)"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
