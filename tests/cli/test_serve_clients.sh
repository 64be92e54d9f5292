#!/usr/bin/env bash
# `umi serve` with the official npm clients `openai` and `ollama`
# (tests/e2e/clients.mjs). The clients are installed into tests/e2e/node_modules
# from the committed package-lock.json on first run (npm ci, needs the npm
# registry once). Skipped (exit 77) only when node or npm is not installed.
# usage: test_serve_clients.sh UMI SRC_DIR SHARED_DIR
set -u
umi=$1 src=$2 shared=$3
e2e=$src/tests/e2e
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "SKIP: node/npm are not installed (Debian: apt-get install nodejs npm; 'make deps' does it)"
    exit 77
fi
source "$e2e/serve_lib.sh"

# Install the pinned clients unless they are already there. A lock, because
# several build directories may run this test at once over one source tree.
installed() {
    [ "$(node -p "require('$e2e/node_modules/openai/package.json').version" 2>/dev/null)" = \
      "$(node -p "require('$e2e/package-lock.json').packages['node_modules/openai'].version")" ] &&
    [ "$(node -p "require('$e2e/node_modules/ollama/package.json').version" 2>/dev/null)" = \
      "$(node -p "require('$e2e/package-lock.json').packages['node_modules/ollama'].version")" ]
}
(
    flock -w 600 9 || exit 1
    installed && exit 0
    echo "installing the npm clients into tests/e2e/node_modules (npm ci)"
    cd "$e2e" && timeout 600 npm ci --no-audit --no-fund --loglevel=error
) 9>"$e2e/.npm-lock"
if ! installed; then
    echo "FAIL: npm ci in $e2e did not install the clients (is the npm registry reachable?)"
    exit 1
fi

start_server clients -m "$src/models/stories260K.gguf" --models-dir "$shared/models" --parallel 2 -t 1
timeout 120 node "$e2e/clients.mjs" "$base" stories260K
rc=$?
if ! stop_server "$server_pid"; then echo "FAIL: the server did not exit on SIGTERM"; rc=1; fi
if grep -q "ERROR: AddressSanitizer\|runtime error" "$tmp/clients.log"; then
    echo "FAIL: sanitizer report"; grep -A20 "ERROR\|runtime error" "$tmp/clients.log"; rc=1
fi
exit $rc
