/* BF16 weights x BF16 activations in the reference's order on CPUs with
 * AVX512-BF16 (its vector dot and its batched tinyBLAS path, both built on
 * VDPBF16PS), as scalar code: the oracle of the SIMD twins and tiles
 * (x86_bf16.c) and the path of CPUs without them.
 *
 * VDPBF16PS, per 32-bit lane j of 16, on bf16 pairs (a, b):
 *   acc = acc + a[2j+1] * b[2j+1], then acc = acc + a[2j] * b[2j],
 * each step one fused multiply-add rounded to nearest even, with denormal
 * inputs read as zeros and denormal results written as zeros (Intel SDM;
 * test_kernels checks this emulation against the instruction).
 * Activations are rounded to BF16 by the type's own converter first. */
#include <float.h>
#include <math.h>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

enum { PAIRS = UMI_LANES, CHUNK = 2 * UMI_LANES, VEC_STEP = 2 * CHUNK };

/* A denormal as the zero of its sign (DAZ on inputs, FTZ on results). */
static float flush(float x) {
    return fabsf(x) < FLT_MIN ? copysignf(0.0f, x) : x;
}

static float dp_step(float acc, uint16_t a, uint16_t b) {
    return flush(fmaf(flush(umi_bf16_to_fp32(a)), flush(umi_bf16_to_fp32(b)), flush(acc)));
}

/* One VDPBF16PS: 32 elements into 16 lanes. */
static void dp_chunk(float acc[PAIRS], const uint16_t *x, const uint16_t *y) {
    for (int j = 0; j < PAIRS; j++) acc[j] = dp_step(dp_step(acc[j], x[2 * j + 1], y[2 * j + 1]), x[2 * j], y[2 * j]);
}

/* The vector dot: two accumulators over steps of 64, each reduced and added
 * in double; the tail's exact products summed in double. */
float umi_dot_bf16_vec(int n, const uint16_t *x, const uint16_t *y) {
    float c1[PAIRS] = {0}, c2[PAIRS] = {0};
    int i = 0;
    for (; i + VEC_STEP <= n; i += VEC_STEP) {
        dp_chunk(c1, x + i, y + i);
        dp_chunk(c2, x + i + CHUNK, y + i + CHUNK);
    }
    double sum = 0.0;
    sum += (double)umi_reduce16(c1);
    sum += (double)umi_reduce16(c2);
    for (; i < n; i++) sum += (double)(umi_bf16_to_fp32(x[i]) * umi_bf16_to_fp32(y[i]));
    return (float)sum;
}

/* The batched order: one accumulator over the row (n % 32 == 0). */
float umi_dot_bf16_gemm(int n, const uint16_t *x, const uint16_t *y) {
    float acc[PAIRS] = {0};
    for (int i = 0; i < n; i += CHUNK) dp_chunk(acc, x + i, y + i);
    return umi_reduce16(acc);
}

float umi_plan_dot_bf16_vec(int k, const void *w, const void *x) { return umi_dot_bf16_vec(k, w, x); }
float umi_plan_dot_bf16_gemm(int k, const void *w, const void *x) { return umi_dot_bf16_gemm(k, w, x); }

/* The batched path takes two or more tokens when k is a multiple of its
 * 32-element step and the rows come in fours; otherwise the vector dot. */
bool umi_kernels_plan_bf16(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok, umi_kernel_plan *p) {
    (void)tok;
    if (wtype != UMI_TYPE_BF16) return false;
    p->dot = n_tok >= 2 && k % CHUNK == 0 && m % 4 == 0 ? umi_plan_dot_bf16_gemm : umi_plan_dot_bf16_vec;
    return true;
}
