/* The inner steps of small-batch (decode) attention over an F16 KV cache
 * (src/infer/attention.c): the score of one key row, and the two updates of
 * the online softmax's F16 accumulator, each element converted to F32,
 * updated once, and rounded back to F16 (round to nearest even) — the
 * reference's ggml_vec_scale_f16 / ggml_vec_mad_f16 with their per-element
 * roundings. The SIMD versions give identical bits (tests/unit/test_att_small.c). */
#ifndef UMI_KERNELS_ATT_SMALL_H
#define UMI_KERNELS_ATT_SMALL_H

#include <stdbool.h>
#include <stdint.h>

#include "kernels/kernels.h"

/* acc[i] = f16(f32(acc[i]) * s), i < n. */
void umi_f16acc_scale(int n, uint16_t *acc, float s);
/* acc[i] = f16(fma(f32(v[i]), w, f32(acc[i]))), i < n. */
void umi_f16acc_mad(int n, uint16_t *acc, const uint16_t *v, float w);

/* Scores of n_pos key rows k[i] against g F16 queries (q16 + j * n):
 * out[j * n_pos + i] has exactly the bits of umi_dot_f16_vec(n, k[i], q16 + j * n). */
void umi_f16acc_scores(int n, const uint16_t *const *k, const uint16_t *q16, int g, float *out, int n_pos);
/* A run of positions' updates of g accumulators (acc + j * n, the heads
 * that share the value rows v[i]), in order: for i < n_pos, when
 * rescale[j * n_pos + i] umi_f16acc_scale(n, acc_j, ms[j * n_pos + i]),
 * then umi_f16acc_mad(n, acc_j, v[i], vs[j * n_pos + i]). */
void umi_f16acc_rows(int n, uint16_t *acc, int g, const uint16_t *const *v, const bool *rescale, const float *ms,
                     const float *vs, int n_pos);

typedef struct umi_att_small_kernels {
    umi_dot_fn score; /* "vec" order F16 dot (kernels.h): key row, F16 query */
    void (*scale)(int n, uint16_t *acc, float s);
    void (*mad)(int n, uint16_t *acc, const uint16_t *v, float w);
    void (*scores)(int n, const uint16_t *const *k, const uint16_t *q16, int g, float *out, int n_pos);
    void (*rows)(int n, uint16_t *acc, int g, const uint16_t *const *v, const bool *rescale, const float *ms,
                 const float *vs, int n_pos);
} umi_att_small_kernels;

/* The fastest versions for a CPU level (the scalar ones for UMI_CPU_GENERIC). */
umi_att_small_kernels umi_kernels_att_small(int cpu_level);

#endif
