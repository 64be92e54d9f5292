#!/usr/bin/env bash
# A burst of requests starts generating in one step (issue 7): requests that
# reach the queue while another request's prompt is being read read their
# prompts in that same step, so all of them go through every decode pass
# together — no pass with fewer sequences at the burst's start or end — and
# each still returns exactly the text it returns alone.
# Request A has a long prompt (one 483-token chunk: ~0.09 s for this F32
# model on 1 thread); B, C and D are sent as soon as /metrics shows A in its
# slot (a few ms), so they arrive while A's prompt runs.
# usage: test_serve_burst.sh UMI SRC_DIR SHARED_DIR
set -u
umi=$1 src=$2 shared=$3
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
source "$src/tests/e2e/serve_lib.sh"

mkdir "$tmp/models" && ln -s "$shared/models/rnd-deepseek2-f32.gguf" "$tmp/models/"
start_server burst --models-dir "$tmp/models" --parallel 4 --ctx-size 1024 -t 1

python3 - "$base" <<'PY'
import json, re, sys, threading, time, urllib.request
base, model, N = sys.argv[1], "rnd-deepseek2-f32", 12
words = "the quick brown fox jumps over the lazy dog while a small bird sings in the old tree".split()
prompts = ["Story: " + " ".join(words[(k * 5) % len(words)] for k in range(175)),
           "One bird", "Two dogs", "Three trees"]
failed = 0

def check(name, cond, detail=""):
    global failed
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        failed += 1
        if detail: print(detail)

def complete(p, out, i):
    body = {"model": model, "prompt": p, "max_tokens": N, "temperature": 0, "cache_prompt": False}
    req = urllib.request.Request(base + "/v1/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    out[i] = json.load(urllib.request.urlopen(req, timeout=120))

def metrics():
    return urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()

def passes():  # (decode passes, passes of at most 2 sequences) so far
    m = metrics()
    get = lambda le: int(re.search(r'umi_decode_batch_sequences_bucket\{model="%s",le="%s"\} (\d+)'
                                   % (model, re.escape(le)), m).group(1))
    return get("+Inf"), get("2")

alone = [None] * 4
for i, p in enumerate(prompts):
    complete(p, alone, i)
check("each request alone generates all %d tokens" % N,
      all(a["usage"]["completion_tokens"] == N for a in alone),
      str([a["usage"]["completion_tokens"] for a in alone]))

n0, small0 = passes()
out = [None] * 4
a = threading.Thread(target=complete, args=(prompts[0], out, 0))
a.start()
t0 = time.time()
while not re.search(r'umi_slots_busy\{model="%s"\} 1' % model, metrics()) and time.time() - t0 < 30:
    time.sleep(0.001)
rest = [threading.Thread(target=complete, args=(prompts[i], out, i)) for i in (1, 2, 3)]
for t in rest: t.start()
for t in [a] + rest: t.join()
n1, small1 = passes()
check("the burst's texts equal the solo texts",
      [o["choices"][0]["text"] for o in out] == [x["choices"][0]["text"] for x in alone])
check("the burst took %d decode passes, each of all 4 sequences" % (N - 1), (n1 - n0, small1 - small0) == (N - 1, 0),
      "passes %d, of <= 2 sequences %d" % (n1 - n0, small1 - small0))
check("request A's prompt is one chunk (%d tokens, read in %.0f ms)"
      % (out[0]["usage"]["prompt_tokens"], out[0]["timings"]["prompt_ms"]), out[0]["usage"]["prompt_tokens"] < 512)
sys.exit(1 if failed else 0)
PY
[ $? -eq 0 ] && ok "burst" || bad "burst (see above)"
stop_server "$server_pid" && ok "clean shutdown" || bad "shutdown"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
