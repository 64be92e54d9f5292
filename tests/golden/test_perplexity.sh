#!/usr/bin/env bash
# Perplexity against the reference engine (../shared/golden/perplexity.tsv):
# `umi perplexity -c CTX --chunks N` over the listed text must end with a
# "PPL = x" line within 0.2 % of the reference's value for MODEL. DATA_DIR
# (default SHARED_DIR) holds golden/perplexity.tsv and models/; the text is
# always SHARED_DIR's. Further arguments go to `umi perplexity` (e.g. -b 16).
# usage: test_perplexity.sh UMI SRC_DIR SHARED_DIR MODEL [DATA_DIR [UMI_ARGS...]]
set -u
umi=$1 shared=$3 model=$4 data=${5:-$3}
shift $(($# < 5 ? $# : 5))
row=$(awk -F'\t' -v m="$model" '$1 == m' "$data/golden/perplexity.tsv")
[ -n "$row" ] || { echo "no reference row for $model"; exit 1; }
IFS=$'\t' read -r _ text ctx chunks want _ <<<"$row"
out=$("$umi" perplexity -m "$data/models/$model" -f "$shared/$text" -c "$ctx" --chunks "$chunks" "$@" 2>&1)
rc=$?
got=$(sed -n 's/^PPL = //p' <<<"$out")
if [ $rc -ne 0 ] || [ -z "$got" ]; then
    echo "$out"; echo "0 passed, 1 failed"; exit 1
fi
awk -v g="$got" -v w="$want" -v m="$model" 'BEGIN {
    rel = (g - w) / w; if (rel < 0) rel = -rel
    printf "%s: umi %.4f, reference %.4f, difference %.4f %%\n", m, g, w, rel * 100
    if (rel <= 0.002) { print "1 passed, 0 failed"; exit 0 } else { print "0 passed, 1 failed"; exit 1 }
}'
