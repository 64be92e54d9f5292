/* Row loops built on umi_expf_poly (core/expf.h): the SiLU of SwiGLU and the
 * softmax steps of large-batch attention and expert routing.
 *
 * The polynomial has branches (overflow, subnormal results) and a libm
 * fallback, so compilers leave the per-element loops scalar; in prompt
 * processing they cost about a tenth of the time. The SIMD versions compute
 * 16 elements at once with the same operations in the same order (fused
 * multiply-adds as fmaf, one rounding each) and send the rare lanes that
 * need ldexpf back to the scalar function, so every element has the bits
 * of the scalar loop (tests/unit/test_expf_rows.c). */
#ifndef UMI_KERNELS_EXPF_ROWS_H
#define UMI_KERNELS_EXPF_ROWS_H

#include <stddef.h>

typedef struct umi_expf_rows {
    /* out[i] = g[i] / (1 + expf_poly(-g[i])) * u[i] for i < n, n % 16 == 0
     * (out may be g). */
    void (*silu_mul)(float *out, const float *g, const float *u, int n);
    /* p[i] = expf_poly(p[i] - m) for i < n, n % 16 == 0; returns the sum of
     * the 16-element groups' umi_reduce16, each widened to double and added
     * in order from 0.0. */
    double (*exp_sum)(float *p, int n, float m);
    /* p[i] = -inf for i < lo or i >= hi, else p[i] * s; returns the largest
     * p[i] (-inf if none; a NaN is never taken), n % 16 == 0. */
    float (*scale_max)(float *p, int n, float s, int lo, int hi);
} umi_expf_rows;

/* The loops for a CPU level (core/cpu.h); the scalar ones where it has no
 * SIMD version. */
umi_expf_rows umi_kernels_expf_rows(int cpu_level);

#endif
