/* K-quant and IQ4_XS dots in the order of the reference's single-row
 * vec_dot kernels (its x86 build runs their AVX2 code; see kquant.h).
 *
 * Per super-block, the 256 products are summed in integers into 8 lanes,
 * lane l taking the elements e with (e % 32) / 4 == l (a 32-byte vector
 * multiplied with byte-pair, then 16-bit-pair, integer adds). Each lane is
 * then converted to float and accumulated with a fused multiply-add by the
 * block's d = d_activation * d_weight. The 8 lanes are reduced as
 * (l + l+4), then (0+2) + (1+3) (umi_reduce8 below). */
#include <math.h>

#include "core/fp16.h"
#include "kernels/kquant.h"
#include "kernels/kquant_decode.h"
#include "quant/blocks.h"
#include "quant/interleave.h"

enum { LANES = 8 };

static inline float half(uint16_t h) {
    return umi_fp16_to_fp32(h);
}

static float reduce8(const float v[LANES]) {
    float h4[4];
    for (int l = 0; l < 4; l++) h4[l] = v[l + 4] + v[l];
    return (h4[0] + h4[2]) + (h4[1] + h4[3]);
}

/* The 8 integer lanes of one super-block: sum of sc * w * q8 by lane. */
static void lane_sums(const kq_unpacked *u, const int8_t *q8, int32_t s[LANES]) {
    for (int l = 0; l < LANES; l++) s[l] = 0;
    for (int g = 0; g < UMI_QK_K / 32; g++) /* 32-element groups */
        for (int l = 0; l < LANES; l++) {
            const int e = 32 * g + 4 * l;
            const int p = u->w[e] * q8[e] + u->w[e + 1] * q8[e + 1] + u->w[e + 2] * q8[e + 2] +
                          u->w[e + 3] * q8[e + 3];
            s[l] += u->sc[e / 16] * p;
        }
}

/* Adds one block's lanes: acc[l] = fma(d, (float)s[l], acc[l]). */
static void lanes_fma(float acc[LANES], float d, const int32_t s[LANES]) {
    for (int l = 0; l < LANES; l++) acc[l] = fmaf(d, (float)s[l], acc[l]);
}

/* Sum of the bsums of 32-element sub-block j (two 16-groups). */
static inline int bsum32(const umi_block_q8_K *a, int j) {
    return a->bsums[2 * j] + a->bsums[2 * j + 1];
}

/* ---------------------------------------------------------------- Q2_K */

/* Mirrors ggml_vec_dot_q2_K_q8_K (AVX2): per block, first the mins, lane l
 * holding mn*bsums of 16-groups 2l and 2l+1, times dmin = -d_a * dmin_w;
 * then the scaled quants, both into the same 8 lanes. */
float umi_dot_q2_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q2_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[LANES] = {0};
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kq_unpack_q2_K(&w[b], &u);
        const float d = a[b].d * half(w[b].d);
        const float dmin = -a[b].d * half(w[b].dmin);
        int32_t s[LANES];
        for (int l = 0; l < LANES; l++)
            s[l] = u.mn[2 * l] * a[b].bsums[2 * l] + u.mn[2 * l + 1] * a[b].bsums[2 * l + 1];
        lanes_fma(acc, dmin, s);
        lane_sums(&u, a[b].qs, s);
        lanes_fma(acc, d, s);
    }
    return reduce8(acc);
}

/* ---------------------------------------------------------------- Q3_K */

/* Mirrors ggml_vec_dot_q3_K_q8_K (AVX2). */
float umi_dot_q3_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q3_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[LANES] = {0};
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kq_unpack_q3_K(&w[b], &u);
        int32_t s[LANES];
        lane_sums(&u, a[b].qs, s);
        lanes_fma(acc, a[b].d * half(w[b].d), s);
    }
    return reduce8(acc);
}

/* ---------------------------------------------------------------- Q4_K, Q5_K */

/* Mirrors ggml_vec_dot_q4_K_q8_K (AVX2): the mins go to a separate 4-lane
 * accumulator, lane u holding sub-blocks 2u and 2u+1, times dmin = -d_a *
 * dmin_w; reduced as (0+2) + (1+3) and added after the 8 lanes. */
float umi_dot_q4_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q4_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[LANES] = {0}, acc_m[4] = {0};
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kq_unpack_q4_K(&w[b], &u);
        const float dmin = -a[b].d * half(w[b].dmin);
        for (int l = 0; l < 4; l++) {
            const int m = u.mn[4 * l] * bsum32(&a[b], 2 * l) + u.mn[4 * l + 2] * bsum32(&a[b], 2 * l + 1);
            acc_m[l] = fmaf(dmin, (float)m, acc_m[l]);
        }
        int32_t s[LANES];
        lane_sums(&u, a[b].qs, s);
        lanes_fma(acc, a[b].d * half(w[b].d), s);
    }
    return reduce8(acc) + ((acc_m[0] + acc_m[2]) + (acc_m[1] + acc_m[3]));
}

/* Mirrors ggml_vec_dot_q5_K_q8_K (AVX2): the mins of a block are one exact
 * integer, accumulated into a scalar as fma(dmin, mins, summs) (the
 * reference's compiler fuses that C expression), added after the lanes. */
float umi_dot_q5_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q5_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[LANES] = {0}, summs = 0.0f;
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kq_unpack_q5_K(&w[b], &u);
        const float dmin = -a[b].d * half(w[b].dmin);
        int32_t m = 0;
        for (int j = 0; j < 8; j++) m += u.mn[2 * j] * bsum32(&a[b], j);
        summs = fmaf(dmin, (float)m, summs);
        int32_t s[LANES];
        lane_sums(&u, a[b].qs, s);
        lanes_fma(acc, a[b].d * half(w[b].d), s);
    }
    return reduce8(acc) + summs;
}

/* ---------------------------------------------------------------- Q6_K */

/* Mirrors ggml_vec_dot_q6_K_q8_K (AVX2): quants are taken as 0..63 and the
 * -32 offset is subtracted per lane as 32 * (sc*bsums of 16-groups 2l and
 * 2l+1), which are not the groups of the lane's own elements. One block's
 * lanes into acc, for the row dot and for the X16_Q6_K tile. */
static void block_q6_K(const umi_block_q6_K *w, const umi_block_q8_K *a, float acc[LANES]) {
    kq_unpacked u;
    kq_unpack_q6_K(w, &u);
    int32_t s[LANES];
    lane_sums(&u, a->qs, s);
    for (int l = 0; l < LANES; l++)
        s[l] -= 32 * (a->bsums[2 * l] * u.sc[2 * l] + a->bsums[2 * l + 1] * u.sc[2 * l + 1]);
    lanes_fma(acc, a->d * half(w->d), s);
}

float umi_dot_q6_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q6_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[LANES] = {0};
    for (int b = 0; b < k / UMI_QK_K; b++) block_q6_K(&w[b], &a[b], acc);
    return reduce8(acc);
}

/* The same on an X16_Q6_K group: each row's blocks read back one by one. */
void umi_tile_q6_K_x16(int k, const void *group, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                       size_t ys) {
    (void)ws;
    const int nb = k / UMI_QK_K;
    for (int j = 0; j < rn; j++) {
        const umi_block_q8_K *a = (const umi_block_q8_K *)(const void *)((const char *)x + j * xs);
        for (int r = 0; r < rm; r++) {
            float acc[LANES] = {0};
            for (int b = 0; b < nb; b++) {
                umi_block_q6_K w;
                umi_x16_q6_K_get_block(group, nb, r, b, &w);
                block_q6_K(&w, &a[b], acc);
            }
            y[j * ys + r] = reduce8(acc);
        }
    }
}

/* ---------------------------------------------------------------- IQ4_XS */

/* Mirrors ggml_vec_dot_iq4_xs_q8_K (AVX2); d = d_w * d_a. */
float umi_dot_iq4_xs_lanes8(int k, const void *vw, const void *va) {
    const umi_block_iq4_xs *w = vw;
    const umi_block_q8_K *a = va;
    float acc[LANES] = {0};
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kq_unpack_iq4_xs(&w[b], &u);
        int32_t s[LANES];
        lane_sums(&u, a[b].qs, s);
        lanes_fma(acc, half(w[b].d) * a[b].d, s);
    }
    return reduce8(acc);
}
