#!/usr/bin/env bash
# The ARM build: cross-compile the kernels (NEON: without and with the
# dot-product extension, and with the 8-bit matrix multiply of ARMv8.6) and
# their unit test for aarch64 with Debian's cross compiler, and run it under
# qemu-user: every NEON twin and tile must give the scalar order's bits; and
# the fp16 conversions. usage: test_arm.sh UMI SRC_DIR SHARED_DIR
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
flags="-std=c11 -O2 -D_GNU_SOURCE -ffp-contract=off -Wall -Wextra -Wno-unused-parameter -Iinclude -Isrc -Itests"
status=0
# A test's last lines, or its failures too and a failed status when it fails.
run() {
    if qemu-aarch64 "$@" >"$out/run.log" 2>&1; then tail -2 "$out/run.log"
    else grep FAIL "$out/run.log" | head -20; tail -2 "$out/run.log"; status=1; fi
}
for march in armv8-a armv8.2-a+dotprod armv8.6-a; do
    if ! $cc $flags -march=$march $sources tests/unit/test_kernels.c -lm -lpthread -static \
         -o "$out/test_kernels" 2>"$out/cc.log"; then
        head -30 "$out/cc.log"; echo "FAIL build for $march"; status=1; continue
    fi
    echo "== $march"
    run "$out/test_kernels" "$src" "$shared"
done
# The half-precision conversions, which take AArch64's FCVT (core/fp16.h).
if $cc $flags -march=armv8-a tests/unit/test_fp16.c -lm -static -o "$out/test_fp16" 2>"$out/cc.log"; then
    echo "== fp16"
    UMI_TEST_QUICK=1 run "$out/test_fp16" "$src" "$shared"
else
    head -30 "$out/cc.log"; echo "FAIL build of test_fp16"; status=1
fi
exit $status
