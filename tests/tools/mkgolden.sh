#!/usr/bin/env bash
# Reference outputs for umi's own test models (tests/models/*.gguf), in the
# format of ../shared/golden/{greedy,perplexity}.tsv (see ../shared/README.md).
# usage: mkgolden.sh REF_BUILD SHARED_DIR OUT_DIR MODEL.gguf...
#   REF_BUILD: the reference engine's build directory (bin/llama-perplexity,
#   bin/libllama.so); refgreedy.c is compiled against it into a temp dir.
set -eu
ref=$1 shared=$2 out=$3
shift 3
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -I"$ref/../include" -I"$ref/../ggml/include" "$src/refgreedy.c" -L"$ref/bin" -lllama \
    -Wl,-rpath,"$ref/bin" -o "$tmp/refgreedy"
greedy=$out/greedy.tsv ppl=$out/perplexity.tsv
[ -f "$greedy" ] || printf 'model\tprompt\tprompt_ids\tgen_ids\tmargins\n' >"$greedy"
[ -f "$ppl" ] || printf 'model\ttext\tctx\tchunks\tppl\tper_chunk\n' >"$ppl"
for model in "$@"; do
    name=$(basename "$model")
    # a model's rows are replaced, not appended twice
    for f in "$greedy" "$ppl"; do
        awk -F'\t' -v m="$name" '$1 != m' "$f" >"$tmp/rows" && cat "$tmp/rows" >"$f"
    done
    for prompt in "Once upon a time" "The little dog went to the park"; do
        "$tmp/refgreedy" "$model" "$prompt" 32 >"$tmp/g"
        { printf '%s\t%s' "$name" "$prompt"; while read -r l; do printf '\t%s' "$l"; done <"$tmp/g"; echo; } >>"$greedy"
    done
    "$ref/bin/llama-perplexity" -m "$model" -f "$shared/text/gpl3-head.txt" -c 128 --chunks 8 -t 2 \
        >"$tmp/p" 2>&1
    run=$(grep -o '\[[0-9]*\][0-9.]*' "$tmp/p" | sed 's/^\[[0-9]*\]//' | paste -sd,)
    final=$(sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p' "$tmp/p")
    [ -n "$final" ] || { cat "$tmp/p"; exit 1; }
    printf '%s\ttext/gpl3-head.txt\t128\t8\t%s\t%s\n' "$name" "$final" "$run" >>"$ppl"
done
