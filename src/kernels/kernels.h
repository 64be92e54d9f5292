/* Float dot products in a fixed summation order.
 *
 * Float addition is not associative, so two engines agree to the last bit
 * only if they add in the same order. These scalar functions reproduce the
 * lane structure of the reference engine's AVX-512 kernels (which produced
 * ../shared/golden), so greedy decoding resolves near-ties the same way:
 *  - "vec" order (single-token decode): 4 accumulators of 16 lanes over
 *    blocks of 64, fused multiply-adds, combined pairwise; the tail is
 *    summed separately (in float for F32 data, in double for F16).
 *  - "gemm" order (two or more tokens, k a multiple of 16): one accumulator
 *    of 16 lanes over the whole row, fused multiply-adds.
 * Both end with the same 16-lane horizontal reduction (umi_reduce16).
 * SIMD versions of these kernels must give identical bits. */
#ifndef UMI_KERNELS_KERNELS_H
#define UMI_KERNELS_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { UMI_LANES = 16 };

/* Raised whenever a kernel's speed changes materially: the planner's cached
 * rates (plan/host.c) measured under another revision are measured again.
 * 2: the SIMD Q8_K activation quantizers; 3: Q8_0's prompt tile prefetches
 * its rows; 4: BF16 kernels. */
enum { UMI_KERNELS_REVISION = 4 };

/* ((v0..7 + v8..15) halves, then 4-lane halves, then (0+2) + (1+3)). */
float umi_reduce16(const float v[UMI_LANES]);

float umi_dot_f32_vec(int n, const float *x, const float *y);
float umi_dot_f32_gemm(int n, const float *x, const float *y); /* n % 16 == 0 */
float umi_dot_f16_vec(int n, const uint16_t *x, const uint16_t *y);
float umi_dot_f16_gemm(int n, const uint16_t *x, const uint16_t *y); /* n % 16 == 0 */

/* Q8_0 weights x Q8_0 activations, n elements: per 32-weight block, 8 lanes
 * each holding the integer sum of 4 adjacent products, scaled by dx*dy and
 * accumulated with fused multiply-adds; 8 lanes reduced as (hi+lo) pairs.
 * The reference's vector and batched paths share this order. */
float umi_dot_q8_0_lanes8(int n, const void *x, const void *y);

/* SIMD twins (x86.c), bit-identical to the functions above; call only when
 * umi_cpu_level_get() allows. */
float umi_dot_f32_vec_avx512(int n, const float *x, const float *y);
float umi_dot_f32_gemm_avx512(int n, const float *x, const float *y);
float umi_dot_f16_vec_avx512(int n, const uint16_t *x, const uint16_t *y);
float umi_dot_f16_gemm_avx512(int n, const uint16_t *x, const uint16_t *y);
float umi_dot_f32_vec_avx2(int n, const float *x, const float *y);
float umi_dot_f32_gemm_avx2(int n, const float *x, const float *y);
float umi_dot_f16_vec_avx2(int n, const uint16_t *x, const uint16_t *y);
float umi_dot_f16_gemm_avx2(int n, const uint16_t *x, const uint16_t *y);
float umi_dot_q8_0_avx2(int n, const void *x, const void *y);

/* ---------------------------------------------------------------- plans
 *
 * The reference engine picks a different kernel (and so a different
 * summation order, sometimes a different activation quantizer) depending on
 * the weight type, the weight's shape (repacked layouts need rows % 8 == 0),
 * the number of tokens in the batch, and even the token's index within it
 * (its 4-row gemm tiles leave a remainder to a gemv). umi_kernels_plan
 * answers, for token `tok` of an `n_tok`-token product with a [k, m] weight:
 * which dot to use and how to convert that token's activations. A NULL
 * member means "the traits table's scalar function". */
typedef float (*umi_dot_fn)(int k, const void *w_row, const void *x_row);
typedef void (*umi_act_fn)(const float *x, void *y, int64_t k);

/* A register tile: y[j * y_stride + i] = dot(w row i, x row j) for i < rm,
 * j < rn (rm, rn at most the plan's tile_m, tile_n), each element
 * bit-identical to the plan's dot. Strides are in bytes for w and x, in
 * floats for y. Tiles keep rm x rn accumulators in registers, so weights
 * and activations are each loaded once per k-step for the whole tile. */
typedef void (*umi_tile_fn)(int k, const void *w, size_t w_stride, int rm, const void *x,
                            size_t x_stride, int rn, float *y, size_t y_stride);
/* A tile's outputs by the dot, element by element: the edge (partial)
 * tiles of the SIMD tiles, which give the same bits (dispatch.c). */
void umi_tile_edge(umi_dot_fn dot, int k, const void *w, size_t w_stride, int rm, const void *x, size_t x_stride,
                   int rn, float *y, size_t y_stride);

typedef struct umi_kernel_plan {
    umi_dot_fn dot;
    umi_act_fn act;
    umi_tile_fn tile; /* optional: only when the same dot serves every token */
    int tile_m, tile_n;
    bool act_wide; /* act writes k floats per row (vec_dot_type values, widened), not vec_dot_type rows */
} umi_kernel_plan;

umi_kernel_plan umi_kernels_plan(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok);
/* The plan of a product in which every token takes the single-token dot
 * (n_tok 1): its dot and act, with the widest tile of that dot, so every
 * token gets the bits a 1-token call gives it while weights load once per
 * tile — the reference's expert products (mul_mat_id: moe.c) and a
 * multi-sequence decode (src/infer/multi.c). */
umi_kernel_plan umi_kernels_plan_solo(uint32_t wtype, int64_t k, int64_t m);
/* The solo plan for a product of several sequences' single tokens (a
 * multi-sequence decode step, whose activations are converted once per
 * step): the same dot's bits, through a tile that may read the
 * activations widened (act_wide), which the expert path (moe.c) does not
 * handle. */
umi_kernel_plan umi_kernels_plan_solo_batch(uint32_t wtype, int64_t k, int64_t m);
/* Rows [r0, r1) of weight w (rows of w_row bytes, w at row 0) times tokens
 * [0, n_tok) of xq through the plan's tile: y[j * y_stride + r]. Tokens go
 * in blocks whose converted activations stay in L2 while the rows stream
 * past them. */
enum { UMI_TILE_L2_BUDGET = 512 * 1024 };
void umi_kernels_tile_rows(const umi_kernel_plan *p, int k, const void *w, size_t w_row, int64_t r0, int64_t r1,
                           const void *xq, size_t xq_row, int n_tok, float *y, size_t y_stride);

/* Batched F16 products whose tile reads the activations widened to floats
 * (wide.c): F16 values as floats, so the dot has umi_dot_f16_gemm's bits on
 * the unwidened rows. umi_kernels_plan_widen switches a plan of
 * umi_plan_dot_f16_gemm to them where this CPU level has their tile. */
void umi_act_f16_wide(const float *x, void *y, int64_t k);
float umi_plan_dot_f16_gemm_wide(int k, const void *w, const void *x);
void umi_kernels_plan_widen(umi_kernel_plan *p, int cpu_level);
/* The same for the "vec" order of the single-token dot, in plans of
 * umi_kernels_plan_solo_batch: umi_plan_dot_f16_vec's bits. */
float umi_dot_f16_vec_wide(int n, const uint16_t *w, const float *x);
float umi_plan_dot_f16_vec_wide(int k, const void *w, const void *x);
void umi_kernels_plan_widen_vec(umi_kernel_plan *p, int64_t k, int cpu_level);

/* The float dots of generic.c with the plan signature. */
float umi_plan_dot_f32_vec(int k, const void *w, const void *x);
float umi_plan_dot_f32_gemm(int k, const void *w, const void *x);
float umi_plan_dot_f16_vec(int k, const void *w, const void *x);
float umi_plan_dot_f16_gemm(int k, const void *w, const void *x);

/* The SIMD twin of a scalar plan dot for a CPU level (x86.c), or the scalar
 * function itself when there is none. Twins give identical bits. */
umi_dot_fn umi_kernels_simd_twin(umi_dot_fn scalar, int cpu_level);
/* A tile kernel computing many dots of `dot` at once, for the CPU level, or
 * NULL when there is none (x86_tile.c). */
umi_tile_fn umi_kernels_tile_for(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n);

/* The same two lookups for each type family's SIMD file (x86_legacy.c,
 * x86_kquant.c): NULL when the family has no twin/tile for that dot. The
 * dispatcher asks the float family (above) first, then these. */
umi_dot_fn umi_kernels_simd_twin_legacy(umi_dot_fn scalar, int cpu_level);
umi_dot_fn umi_kernels_simd_twin_kquant(umi_dot_fn scalar, int cpu_level);
umi_tile_fn umi_kernels_tile_for_legacy(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n);
umi_tile_fn umi_kernels_tile_for_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n);
/* A K-quant tile that beats the dot for a single token too (rn = 1: rows
 * in lanes, so one reduction serves several rows), or NULL: ARM's Q4_K and
 * Q2_K gemv tiles (neon_kquant_tile.c), where no interleaved layout serves
 * decode. */
umi_tile_fn umi_kernels_tile_solo_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n);
/* The SIMD twin of a family's activation quantizer (same bytes), or NULL:
 * Q8_0/Q8_1 (x86_legacy.c), Q8_K (x86_act_q8_K.c). */
umi_act_fn umi_kernels_simd_act_legacy(umi_act_fn scalar, int cpu_level);
umi_act_fn umi_kernels_simd_act_kquant(umi_act_fn scalar, int cpu_level);

/* Interleaved weight layouts (quant/interleave.h). umi_kernels_layout says
 * which layout the kernels of this CPU level read fastest for a [k, m]
 * weight of type wtype (UMI_LAYOUT_GGUF: none better, keep the file's);
 * umi_kernels_layout_tile gives the tile that reads it with the bits of the
 * plan's dot `dot` (scalar or twin), or NULL. A weight in an interleaved
 * layout is only ever read through such tiles, whole groups of rows at a
 * time; their outputs have the bits of the plan's dot on the file's layout
 * (tests/unit/test_kernels_x86_legacy.c, test_kernels_x86_kquant.c), except
 * X16_Q8_0's, which sum blocks exactly (umi_tile_q8_0_x16, legacy.h). */
int umi_kernels_layout(uint32_t wtype, int64_t k, int64_t m, int cpu_level);
umi_tile_fn umi_kernels_layout_tile(uint32_t wtype, int layout, umi_dot_fn dot, int cpu_level, int *tile_m,
                                    int *tile_n);
/* The family's SIMD tile for an interleaved layout, keyed by the layout's
 * scalar tile (legacy.h, kquant.h), or NULL (x86_legacy.c, x86_kquant_x16.c,
 * x86_kquant_x16_q6k.c). */
umi_tile_fn umi_kernels_layout_tile_legacy(umi_tile_fn oracle, int cpu_level, int *tile_m, int *tile_n);
umi_tile_fn umi_kernels_layout_tile_kquant(umi_tile_fn oracle, int cpu_level, int *tile_m, int *tile_n);
/* X16_Q4_K's AVX2 tiles, for AVX2 CPUs and AVX-512 ones without VNNI
 * (x86_kquant_x16_avx2.c). */
umi_tile_fn umi_kernels_layout_tile_kquant_avx2(umi_tile_fn oracle, int *tile_m, int *tile_n);
umi_tile_fn umi_kernels_layout_tile_q6_K(umi_tile_fn oracle, int cpu_level, int *tile_m, int *tile_n);
/* The AVX-512 VNNI tiles of the X16 layout (x86_x16.c; tile_m a multiple of
 * 16: they take any whole number of groups up to it). */
umi_tile_fn umi_kernels_x16_tile_vnni(umi_tile_fn oracle, int *tile_m, int *tile_n);
/* Q4_0's X16 tile for AVX2 (x86_x16_avx2.c), or NULL. */
umi_tile_fn umi_kernels_x16_tile_avx2(umi_tile_fn oracle, int *tile_m, int *tile_n);

/* Per-family planners (dispatch.c asks each in turn); true when they set *p. */
bool umi_kernels_plan_float(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok,
                            umi_kernel_plan *p);
bool umi_kernels_plan_legacy(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok,
                             umi_kernel_plan *p); /* Q4_0 .. Q8_0, IQ4_NL (legacy.c) */
bool umi_kernels_plan_kquant(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok,
                             umi_kernel_plan *p); /* Q2_K .. Q6_K, IQ4_XS (kquant.c) */
bool umi_kernels_plan_bf16(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok,
                           umi_kernel_plan *p); /* BF16 (bf16.c) */

/* ---------------------------------------------------------------- BF16 (bf16.c)
 *
 * BF16 weights x BF16 activations in the reference's AVX512-BF16 orders,
 * its VDPBF16PS emulated (16 lanes, each adding its pair's odd product,
 * then its even one, as fused multiply-adds with denormals flushed):
 *  - vec (one token): two accumulators over steps of 64, each reduced by
 *    umi_reduce16 and added in double, the tail's products in double;
 *  - gemm (two or more tokens, n % 32 == 0): one accumulator, umi_reduce16.
 * x86_bf16.c has the x86 twins (VDPBF16PS itself where the CPU has it)
 * and the AVX512-BF16 tiles, neon.c the NEON twins. */
float umi_dot_bf16_vec(int n, const uint16_t *x, const uint16_t *y);
float umi_dot_bf16_gemm(int n, const uint16_t *x, const uint16_t *y);
float umi_plan_dot_bf16_vec(int k, const void *w, const void *x);
float umi_plan_dot_bf16_gemm(int k, const void *w, const void *x);
/* x86_bf16.c: the twin of a BF16 plan dot for the level, or NULL; the
 * AVX512-BF16 tile of a BF16 dot, or NULL. */
umi_dot_fn umi_kernels_simd_twin_bf16(umi_dot_fn scalar, int cpu_level);
umi_tile_fn umi_kernels_tile_for_bf16(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n);

/* ---------------------------------------------------------------- attention (att.c)
 *
 * Large-batch attention over an F16 KV cache, the reference's tiled order:
 * for nq queries q_a (rows of hd floats), s[a * s_stride + i] = fused
 * multiply-add chain over d ascending of k_i[d] * q_a[d] from 0, k_i =
 * kc + off[i]; for nq weight rows p_a = p + a * p_stride, out_a[d] (out_a =
 * out + a * hd) = chain over i ascending of v_i[d] * p_a[i], starting from
 * out_a[d]. The SIMD kernels give identical bits. */
void umi_att_scores_f16(const uint16_t *kc, const int32_t *off, int n, const float *q, int nq, int hd, float *s,
                        int s_stride);
void umi_att_accum_f16(const uint16_t *vc, const int32_t *off, int n, const float *p, int p_stride, int nq, int hd,
                       float *out);
typedef struct umi_att_kernels {
    void (*scores)(const uint16_t *kc, const int32_t *off, int n, const float *q, int nq, int hd, float *s,
                   int s_stride);
    void (*accum)(const uint16_t *vc, const int32_t *off, int n, const float *p, int p_stride, int nq, int hd,
                  float *out);
} umi_att_kernels;
umi_att_kernels umi_kernels_att(int cpu_level);

#endif
