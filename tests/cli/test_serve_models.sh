#!/usr/bin/env bash
# `umi serve` model lifecycle and KV state files, end to end with curl:
# keep_alive (0 unloads, a short one expires, negative never), LRU eviction
# of idle models under a small --mem-budget, --max-models, 507 when one
# model alone exceeds the budget, num_ctx / sampling changes never reloading
# the weights, POST /slots/{id}?action=save|restore across a server restart
# (the restored tokens are reused, not reprocessed), refused files (corrupted,
# truncated, another model's, path traversal), and `umi run --prompt-cache`.
# usage: test_serve_models.sh UMI SRC_DIR SHARED_DIR
set -u
umi=$1 src=$2 shared=$3
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
source "$src/tests/e2e/serve_lib.sh"

# Three tiny models in a directory of their own.
A=rnd-llama-q4_0 B=rnd-qwen2-q4_k_m C=TinyStories-656K-Q8_0
mkdir -p "$tmp/models" "$tmp/slots"
for m in $A $B $C; do ln -s "$shared/models/$m.gguf" "$tmp/models/$m.gguf"; done

# What the planner says each needs as the server runs it (-c 512, one slot):
# the budget holds any two of them but not all three. (1000 bytes short of
# all three, not 1: the budget travels as decimal GB, and a double's
# rounding may add a byte back.)
total() { "$umi" plan "$tmp/models/$1.gguf" -c 512 --hw this --bw 1 --json | python3 -c "import json,sys; print(json.load(sys.stdin)['total_bytes'])"; }
tA=$(total $A) tB=$(total $B) tC=$(total $C)
budget=$(python3 -c "print(($tA + $tB + $tC - 1000) / 1e9)")
smallest=$(python3 -c "print((min($tA, $tB, $tC) - 1000) / 1e9)")

gen() { # MODEL [EXTRA_JSON]: a short non-streaming generate
    http POST /api/generate '{"model":"'$1'","prompt":"Once upon a time","stream":false,"options":{"num_predict":3,"temperature":0}'"${2:-}"'}'
}
ps_names() { http GET /api/ps >/dev/null; json "' '.join(sorted(m['name'] for m in j['models']))"; }
# poll_ps WANT: /api/ps names become WANT within 5 s
poll_ps() { local got; for _ in $(seq 50); do got=$(ps_names); [ "$got" = "$1" ] && break; sleep 0.1; done; echo "$got"; }

start_server life --models-dir "$tmp/models" --mem-budget "$budget" --keep-alive 10m -c 512 -t 1 \
             --slot-save-path "$tmp/slots"

# ---------------------------------------------------------------- LRU eviction under the budget
is "load $A" "$(gen $A)" 200
is "load $B" "$(gen $B)" 200
is "two fit" "$(ps_names)" "$A $B"
is "load $C" "$(gen $C)" 200
is "the least recently used idle model ($A) made room" "$(ps_names)" "$C $B"
grep -q "unloading $A (idle, least recently used) for model '$C'" "$tmp/life.log" && ok "eviction logged" || bad "eviction logged" "$(cat "$tmp/life.log")"
is "use $B again" "$(gen $B)" 200
is "load $A again" "$(gen $A)" 200
is "now $C was the least recently used" "$(ps_names)" "$A $B"
is "ps sizes are the planner's figures" "$(json "sorted(m['size'] for m in j['models']) == sorted([$tA, $tB])")" True

# ---------------------------------------------------------------- num_ctx and sampling never reload
loads_before=$(grep -c "loaded $A " "$tmp/life.log")
is "a larger num_ctx" "$(http POST /api/generate '{"model":"'$A'","prompt":"hi","stream":false,"options":{"num_predict":2,"num_ctx":1024}}')" 200
is "num_ctx: no load time" "$(json "j['load_duration']")" 0
is "other sampling options" "$(http POST /api/generate '{"model":"'$A'","prompt":"hi","stream":false,"options":{"num_predict":2,"temperature":1.5,"top_k":3,"top_p":0.5,"min_p":0.1,"repeat_penalty":1.3,"seed":7}}')" 200
is "sampling: no load time" "$(json "j['load_duration']")" 0
is "the weights were loaded once" "$(grep -c "loaded $A " "$tmp/life.log")" "$loads_before"

# ---------------------------------------------------------------- keep_alive
is "keep_alive 0 with an empty prompt (ollama stop)" "$(http POST /api/generate '{"model":"'$B'","keep_alive":0}'; echo " $(json "j['done_reason']")")" "200 unload"
is "it is unloaded at once" "$(ps_names)" "$A"
is "stopping a model that is not loaded does not load it" "$(http POST /api/generate '{"model":"'$C'","keep_alive":0}'; echo " $(ps_names)")" "200 $A"
is "keep_alive 0 on a request" "$(gen $B ',"keep_alive":0')" 200
is "unloads right after it" "$(poll_ps "$A")" "$A"
is "keep_alive -1" "$(gen $B ',"keep_alive":-1')" 200
http GET /api/ps >/dev/null
is "never expires" "$(json "[m['expires_at'][:4] for m in j['models'] if m['name'] == '$B']")" "['9999']"
is "keep_alive \"2s\"" "$(gen $B ',"keep_alive":"2s"')" 200
http GET /api/ps >/dev/null
is "expires_at about 2 s ahead" "$(json "[__import__('calendar').timegm(__import__('time').strptime(m['expires_at'], '%Y-%m-%dT%H:%M:%SZ')) - __import__('time').time() for m in j['models'] if m['name'] == '$B'][0] < 4")" True
is "a short keep_alive expires" "$(poll_ps "$A")" "$A"
is "keep_alive \"1h30m\"" "$(gen $B ',"keep_alive":"1h30m"')" 200
is "a bad keep_alive is refused" "$(gen $B ',"keep_alive":"soon"')" 400
is "a mistyped keep_alive is refused" "$(gen $B ',"keep_alive":true')" 400

# ---------------------------------------------------------------- KV save and restore
prompt1="Once upon a time there was a little girl named Lily."
prompt2="$prompt1 She liked to"
comp() { http POST /v1/completions '{"model":"'$C'","prompt":"'"$1"'","max_tokens":12,"temperature":0}'; }
is "first turn" "$(comp "$prompt1")" 200
is "save slot 0" "$(http POST "/slots/0?action=save" '{"model":"'$C'","filename":"chat.bin"}')" 200
n_saved=$(json "j['n_saved']")
is "save reply" "$(json "j['id_slot'], j['filename'], j['n_saved'] > 10, 'save_ms' in j['timings']")" "0 chat.bin True True"
is "second turn on the live server" "$(comp "$prompt2")" 200
live_cached=$(json "j['usage']['prompt_tokens_details']['cached_tokens']")
live_text=$(json "j['choices'][0]['text']")
cp "$tmp/slots/chat.bin" "$tmp/chat.bin"
stop_server "$server_pid" && ok "server stops" || bad "server stops"

start_server life2 --models-dir "$tmp/models" -c 512 -t 1 --slot-save-path "$tmp/slots"
is "restore after a restart" "$(http POST "/slots/0?action=restore" '{"model":"'$C'","filename":"chat.bin"}')" 200
is "restore reply" "$(json "j['id_slot'], j['n_restored'], 'restore_ms' in j['timings']")" "0 $n_saved True"
is "second turn after the restore" "$(comp "$prompt2")" 200
is "the restored tokens are reused, not reprocessed" \
   "$(json "j['usage']['prompt_tokens_details']['cached_tokens'], j['timings']['prompt_n'] == j['usage']['prompt_tokens'] - j['usage']['prompt_tokens_details']['cached_tokens']")" \
   "$live_cached True"
[ "$live_cached" -gt 5 ] && ok "most of the prompt was cached ($live_cached tokens)" || bad "cached $live_cached"
is "the conversation continues as it would have" "$(json "j['choices'][0]['text']")" "$live_text"

# Refused files: each a clear error, the server keeps serving.
slot() { http POST "/slots/$1?action=$2" "$3"; echo " $(json "j['error'][:60]")"; }
python3 - "$tmp/chat.bin" "$tmp/slots/flipped.bin" "$tmp/slots/short.bin" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[len(d) // 2] ^= 0x40
open(sys.argv[2], 'wb').write(d)
open(sys.argv[3], 'wb').write(d[:len(d) // 3])
EOF
head -c 10 /dev/urandom > "$tmp/slots/junk.bin"
is "a corrupted file is refused" "$(slot 0 restore '{"model":"'$C'","filename":"flipped.bin"}' | cut -c1-4)" "400 "
grep -q "checksum" "$tmp/body" && ok "... naming the checksum" || bad "corrupted message" "$(cat "$tmp/body")"
is "a truncated file is refused" "$(slot 0 restore '{"model":"'$C'","filename":"short.bin"}' | cut -c1-4)" "400 "
is "not a state file" "$(slot 0 restore '{"model":"'$C'","filename":"junk.bin"}' | cut -c1-4)" "400 "
is "another model's file is refused" "$(slot 0 restore '{"model":"'$A'","filename":"chat.bin"}' | cut -c1-4)" "409 "
grep -q "another model" "$tmp/body" && ok "... saying so" || bad "mismatch message" "$(cat "$tmp/body")"
is "a missing file" "$(slot 0 restore '{"model":"'$C'","filename":"nothing.bin"}' | cut -c1-4)" "404 "
for name in '../chat.bin' '/etc/passwd' '' 'a/b.bin' '..' '.hidden' 'x\\..\\y'; do
    is "file name '$name' refused" "$(http POST "/slots/0?action=save" '{"model":"'$C'","filename":"'"$name"'"}')" 400
done
is "filename missing" "$(http POST "/slots/0?action=save" '{"model":"'$C'"}')" 400
is "unknown action" "$(http POST "/slots/0?action=erase" '{"model":"'$C'","filename":"x.bin"}')" 400
is "no such slot" "$(http POST "/slots/9?action=restore" '{"model":"'$C'","filename":"chat.bin"}')" 400
is "not a slot id" "$(http POST "/slots/zero?action=save" '{"model":"'$C'","filename":"x.bin"}')" 400
is "GET is not allowed" "$(http GET "/slots/0")" 405
is "still serving" "$(comp "$prompt1")" 200
stop_server "$server_pid" && ok "server stops" || bad "server stops"

# ---------------------------------------------------------------- 507, --max-models, no --slot-save-path
start_server tiny --models-dir "$tmp/models" --mem-budget "$smallest" -c 512 -t 1
is "a model alone over the budget: 507" "$(gen $C)" 507
is "... with the numbers" "$(json "'needs' in j['error'] and 'GiB' in j['error'] and 'budget' in j['error']")" True
is "nothing was loaded" "$(ps_names)" ""
stop_server "$server_pid" && ok "server stops" || bad "server stops"

# A budget with room for $A at -c 512 and little more: a larger num_ctx must not grow past it.
start_server grow --models-dir "$tmp/models" --mem-budget "$(python3 -c "print(($tA + 100000) / 1e9)")" -c 512 -t 1
is "$A fits" "$(gen $A)" 200
is "a num_ctx whose KV cache exceeds the budget: 507" "$(http POST /api/generate '{"model":"'$A'","prompt":"hi","stream":false,"options":{"num_predict":2,"num_ctx":1024}}')" 507
is "... naming the context" "$(json "'1024-token context' in j['error']")" True
is "the model still serves its context" "$(gen $A)" 200
stop_server "$server_pid" && ok "server stops" || bad "server stops"

start_server one --models-dir "$tmp/models" --max-models 1 -c 512 -t 1
is "--max-models 1: load $A" "$(gen $A)" 200
is "--max-models 1: load $B" "$(gen $B)" 200
is "only the last one stays" "$(ps_names)" "$B"
is "slots are off without --slot-save-path" "$(http POST "/slots/0?action=save" '{"model":"'$B'","filename":"x.bin"}')" 501
stop_server "$server_pid" && ok "server stops" || bad "server stops"

# ---------------------------------------------------------------- flags
for ka in soon 5x 1e3s 0x5s "5m-3s" ""; do
    "$umi" serve --keep-alive "$ka" --port 0 >/dev/null 2>"$tmp/flag.err"
    [ $? -ne 0 ] && grep -q "is not a duration" "$tmp/flag.err" && ok "--keep-alive '$ka' refused" || bad "--keep-alive '$ka'" "$(cat "$tmp/flag.err")"
done
"$umi" serve --slot-save-path "$tmp/nonexistent" --port 0 >/dev/null 2>"$tmp/flag.err"
[ $? -ne 0 ] && grep -q "not a directory" "$tmp/flag.err" && ok "--slot-save-path must be a directory" || bad "--slot-save-path" "$(cat "$tmp/flag.err")"

# ---------------------------------------------------------------- umi run --prompt-cache
run() { "$umi" run -m "$tmp/models/$C.gguf" -p "$prompt2" -n 16 --temp 0 -t 1 "$@" 2>"$tmp/run.err"; }
first=$(run --prompt-cache "$tmp/run.bin")
first_line=$(tail -1 "$tmp/run.err")
[ -s "$tmp/run.bin" ] && ok "run --prompt-cache writes the file" || bad "prompt cache file" "$(cat "$tmp/run.err")"
second=$(run --prompt-cache "$tmp/run.bin")
is "the second run gives the same greedy text" "$second" "$first"
n1=$(echo "$first_line" | sed -n 's/.*prompt \([0-9]*\) tokens (0 cached).*/\1/p')
cached=$(sed -n 's/.*prompt \([0-9]*\) tokens (\([0-9]*\) cached).*/\1 \2/p' "$tmp/run.err")
is "the second run reuses the prompt ($first_line | $(tail -1 "$tmp/run.err"))" \
   "$(echo "$cached" | awk -v n="$n1" '{print ($1 == 1 && $1 + $2 == n) ? "yes" : "no"}')" yes
sum=$(cksum < "$tmp/run.bin")
"$umi" run -m "$tmp/models/$C.gguf" -p "$prompt1 The end" -n 4 --temp 0 -t 1 --prompt-cache "$tmp/run.bin" --prompt-cache-ro \
    >/dev/null 2>"$tmp/run.err"
grep -q "(1[0-9] cached)" "$tmp/run.err" && ok "a shared prefix is reused" || bad "prefix reuse" "$(cat "$tmp/run.err")"
is "--prompt-cache-ro leaves the file alone" "$(cksum < "$tmp/run.bin")" "$sum"
out=$("$umi" run -m "$tmp/models/$A.gguf" -p "$prompt2" -n 4 --temp 0 -t 1 --prompt-cache "$tmp/run.bin" --prompt-cache-ro 2>&1)
echo "$out" | grep -q "another model" && echo "$out" | grep -q "(0 cached)" && ok "another model's cache is ignored with a warning" \
    || bad "foreign prompt cache" "$out"

if grep -q "ERROR: AddressSanitizer\|runtime error" "$tmp"/*.log; then bad "sanitizer reports" "$(grep -h -A5 'ERROR\|runtime error' "$tmp"/*.log)"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
