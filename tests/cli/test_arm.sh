#!/usr/bin/env bash
# The ARM build: cross-compile the kernels (NEON, with and without the
# dot-product extension) and their unit test for aarch64 with Debian's
# cross compiler, and run it under qemu-user: every NEON twin must give the
# scalar order's bits. usage: test_arm.sh UMI SRC_DIR SHARED_DIR
set -u
src=$2 shared=$3
cc=aarch64-linux-gnu-gcc
if ! command -v $cc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    echo "aarch64-linux-gnu-gcc or qemu-aarch64 missing (make deps installs them)"
    echo "0 passed, 1 failed"; exit 1
fi
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
cd "$src"
sources=$(ls src/core/*.c src/quant/*.c src/kernels/*.c)
status=0
for march in armv8-a armv8.2-a+dotprod; do
    if ! $cc -std=c11 -O2 -D_GNU_SOURCE -ffp-contract=off -Wall -Wextra -Wno-unused-parameter \
         -march=$march -Iinclude -Isrc $sources tests/unit/test_kernels.c -lm -lpthread -static \
         -o "$out/test_kernels" 2>"$out/cc.log"; then
        cat "$out/cc.log"; echo "FAIL build for $march"; status=1; continue
    fi
    echo "== $march"
    qemu-aarch64 "$out/test_kernels" "$src" "$shared" | tail -2 || status=1
done
exit $status
