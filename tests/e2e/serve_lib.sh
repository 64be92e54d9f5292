# Shared by the `umi serve` end-to-end tests (sourced): start a server on a
# free loopback port, always kill it on exit, and small HTTP helpers.
# Needs: $umi. Makes $tmp (a scratch dir) and the EXIT trap that stops every
# server and removes it. Every network call is on 127.0.0.1 and bounded in time.

# Checks: ok NAME, bad NAME [DETAIL], is NAME GOT WANT; the script ends with
# echo "$passed passed, $failed failed" and fails when $failed > 0.
passed=0 failed=0
ok()  { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | head -5; }
is()  { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got  $2
want $3"; fi; }

server_pids=()
tmp=$(mktemp -d)
trap 'cleanup_servers; rm -rf "$tmp"' EXIT
cleanup_servers() {
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${server_pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
}

# start_server NAME ARGS...: sets $base (http://127.0.0.1:PORT) and $server_pid.
start_server() {
    local name=$1; shift
    rm -f "$tmp/$name.port"
    "$umi" serve --host 127.0.0.1 --port 0 --port-file "$tmp/$name.port" "$@" 2>"$tmp/$name.log" &
    server_pid=$!
    server_pids+=("$server_pid")
    for _ in $(seq 100); do
        [ -s "$tmp/$name.port" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -s "$tmp/$name.port" ]; then
        echo "FAIL server $name did not start"; cat "$tmp/$name.log"; exit 1
    fi
    base="http://127.0.0.1:$(cat "$tmp/$name.port")"
}

# stop_server PID: SIGTERM, and the server must exit cleanly within 10 s.
stop_server() {
    local pid=$1
    kill "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then return 1; fi
    wait "$pid"
}

# http METHOD PATH [BODY] -> prints the status code; the body goes to $tmp/body.
http() {
    local method=$1 path=$2 body=${3-}
    if [ $# -ge 3 ]; then
        curl -s --max-time 60 -X "$method" -o "$tmp/body" -w '%{http_code}' \
             -H 'Content-Type: application/json' --data-binary "$body" "$base$path"
    else
        curl -s --max-time 60 -X "$method" -o "$tmp/body" -w '%{http_code}' "$base$path"
    fi
}

# json EXPR: evaluate a Python expression over the JSON in $tmp/body (as `j`).
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$tmp/body" 2>/dev/null; }

# sse_text FILE: the content deltas of an OpenAI chat stream, joined.
sse_text() {
    python3 -c "
import json,sys
t=''
for ev in open(sys.argv[1]).read().split('\n\n'):
    if ev.startswith('data: {'): t += json.loads(ev[6:])['choices'][0]['delta'].get('content') or ''
print(t)" "$1"
}
