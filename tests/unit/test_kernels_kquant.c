/* test_kernels_kquant — Q2_K .. Q6_K and IQ4_XS products in the reference
 * engine's orders (src/kernels/kquant*.c).
 *
 *   1. Plans: which dot and activation quantizer serves each (type, rows,
 *      tokens, token) — repacked Q2_K/Q4_K split tokens between gemm and gemv.
 *   2. Every ordered dot against the traits' scalar vec_dot on random rows,
 *      within ORDER_REL_TOL: they differ only in float rounding order.
 *   3. The 4-row activation quantizer against the traits' Q8_K from_float:
 *      identical bytes, except blocks holding both +amax and -amax with the
 *      negative first, where every quant, bsum and d is negated.
 *   4. Whole products through the plans, pinned bit for bit to the reference
 *      engine's ggml mul_mat (x86 AVX-512 build, one thread, repacked
 *      buffers where it repacks; inputs from the generator below).
 *   5. The X16_Q4_K and X16_Q6_K layouts (quant/interleave.h): every block
 *      reads back as packed, and the layouts' scalar tiles give the bits of
 *      the gemv and gemm dots (Q4_K) and the lanes8 dot (Q6_K) on the rows
 *      before packing.
 *
 * Usage: test_kernels_kquant <source_dir> <shared_dir> (both unused).
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/kquant.h"
#include "quant/blocks.h"
#include "quant/interleave.h"
#include "quant/quant.h"

#include "unit/testkit.h"

/* Ordered dot vs the traits' dot, relative to sum |w_i a_i|: both round one
 * scale product and one accumulation per partial sum (a few per 256
 * elements), so they agree to ~1e-7; a wrong lane split of the -32 or min
 * terms, or a wrong element, is off by far more. */
static const double ORDER_REL_TOL = 1e-6;

/* ---------------------------------------------------------------- harness */

/* Pinned inputs use testkit.h's generator (the reference-side harness uses
 * the same one): exact [-1, 1) floats, finite halves 2^-12 .. 2^2. */
static void put_half(uint8_t *block, size_t offset) {
    const uint64_t r = rng_next();
    const uint16_t exp = (uint16_t)(3 + (r >> 8) % 15);
    const uint16_t h = (uint16_t)((r >> 16 & 0x8000) | exp << 10 | (r >> 24 & 0x3ff));
    memcpy(block + offset, &h, 2);
}

static const uint32_t types[] = {UMI_TYPE_Q2_K, UMI_TYPE_Q3_K, UMI_TYPE_Q4_K,
                                 UMI_TYPE_Q5_K, UMI_TYPE_Q6_K, UMI_TYPE_IQ4_XS};
enum { N_TYPES = sizeof types / sizeof types[0] };

/* m rows of k random weights: random bytes, every fp16 scale finite. */
static void *random_weights(uint32_t type, int k, int m) {
    const umi_type_traits *t = umi_type_traits_get(type);
    const size_t n_bytes = umi_type_row_size(type, k) * (size_t)m;
    uint8_t *w = xmalloc(n_bytes);
    for (size_t i = 0; i < n_bytes; i++) w[i] = (uint8_t)rng_next();
    for (size_t i = 0; i < n_bytes / t->type_size; i++) {
        uint8_t *b = w + i * t->type_size;
        switch (type) {
        case UMI_TYPE_Q2_K:
            put_half(b, offsetof(umi_block_q2_K, d));
            put_half(b, offsetof(umi_block_q2_K, dmin));
            break;
        case UMI_TYPE_Q3_K: put_half(b, offsetof(umi_block_q3_K, d)); break;
        case UMI_TYPE_Q4_K: case UMI_TYPE_Q5_K: put_half(b, 0); put_half(b, 2); break;
        case UMI_TYPE_Q6_K: put_half(b, offsetof(umi_block_q6_K, d)); break;
        case UMI_TYPE_IQ4_XS: put_half(b, 0); break;
        }
    }
    return w;
}

/* ---------------------------------------------------------------- 1. plans */

/* The plan hands out the SIMD twin of a scalar dot where the CPU has one
 * (x86_kquant.c); either counts as that dot. */
static bool is_dot(umi_dot_fn got, umi_dot_fn scalar) {
    const umi_dot_fn twin = umi_kernels_simd_twin_kquant(scalar, umi_cpu_level_get());
    return got == scalar || (twin && got == twin);
}

/* The same for the activation quantizer (x86_act_q8_K.c); no act at all
 * stands for the traits' quantizer (NULL scalar: the ordinary one). */
static bool is_act(umi_act_fn got, umi_act_fn scalar) {
    const umi_act_fn want = scalar ? scalar : umi_type_traits_get(UMI_TYPE_Q8_K)->from_float;
    const umi_act_fn twin = umi_kernels_simd_act_kquant(want, umi_cpu_level_get());
    return got == want || (twin && got == twin) || (!scalar && !got);
}

static void test_plans(void) {
    umi_kernel_plan p;
    /* Repacked (rows % 8 == 0): tokens 0 .. n - n%4 - 1 in the gemm. */
    static const struct { int n_tok, tok; bool gemm; } split[] = {
        {1, 0, false}, {3, 2, false}, {4, 0, true}, {4, 3, true},
        {7, 3, true},  {7, 4, false}, {7, 6, false}, {12, 11, true},
    };
    for (size_t i = 0; i < sizeof split / sizeof split[0]; i++) {
        p = umi_kernels_plan(UMI_TYPE_Q4_K, 256, 64, split[i].n_tok, split[i].tok);
        const bool gemm = is_dot(p.dot, umi_dot_q4_K_gemm) && is_act(p.act, umi_quant_from_float_q8_K_x4);
        const bool gemv = is_dot(p.dot, umi_dot_q4_K_gemv) && is_act(p.act, NULL);
        check(split[i].gemm ? gemm : gemv, "plan q4_K n_tok %d tok %d: expected %s",
              split[i].n_tok, split[i].tok, split[i].gemm ? "gemm" : "gemv");
        p = umi_kernels_plan(UMI_TYPE_Q2_K, 256, 64, split[i].n_tok, split[i].tok);
        check(split[i].gemm ? is_dot(p.dot, umi_dot_q2_K_gemm) : is_dot(p.dot, umi_dot_q2_K_gemv),
              "plan q2_K n_tok %d tok %d", split[i].n_tok, split[i].tok);
    }
    /* Not repacked: the vec_dot order with the ordinary quantizer, any batch. */
    p = umi_kernels_plan(UMI_TYPE_Q4_K, 256, 12, 8, 0);
    check(is_dot(p.dot, umi_dot_q4_K_lanes8) && is_act(p.act, NULL), "plan q4_K rows 12");
    p = umi_kernels_plan(UMI_TYPE_Q2_K, 256, 36, 8, 0);
    check(is_dot(p.dot, umi_dot_q2_K_lanes8) && is_act(p.act, NULL), "plan q2_K rows 36");
    static const struct { uint32_t type; umi_dot_fn dot; } vec[] = {
        {UMI_TYPE_Q3_K, umi_dot_q3_K_lanes8}, {UMI_TYPE_Q5_K, umi_dot_q5_K_lanes8},
        {UMI_TYPE_Q6_K, umi_dot_q6_K_lanes8}, {UMI_TYPE_IQ4_XS, umi_dot_iq4_xs_lanes8},
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++)
        for (int n_tok = 1; n_tok <= 8; n_tok += 7) {
            p = umi_kernels_plan(vec[i].type, 512, 64, n_tok, 0);
            check(is_dot(p.dot, vec[i].dot) && is_act(p.act, NULL), "plan %s n_tok %d",
                  umi_type_traits_get(vec[i].type)->name, n_tok);
        }
}

/* ---------------------------------------------------------------- 2. orders vs traits */

static void ordered_dots(uint32_t type, umi_dot_fn out[3]) {
    out[0] = out[1] = out[2] = NULL;
    switch (type) {
    case UMI_TYPE_Q2_K:
        out[0] = umi_dot_q2_K_lanes8, out[1] = umi_dot_q2_K_gemv, out[2] = umi_dot_q2_K_gemm;
        break;
    case UMI_TYPE_Q3_K: out[0] = umi_dot_q3_K_lanes8; break;
    case UMI_TYPE_Q4_K:
        out[0] = umi_dot_q4_K_lanes8, out[1] = umi_dot_q4_K_gemv, out[2] = umi_dot_q4_K_gemm;
        break;
    case UMI_TYPE_Q5_K: out[0] = umi_dot_q5_K_lanes8; break;
    case UMI_TYPE_Q6_K: out[0] = umi_dot_q6_K_lanes8; break;
    case UMI_TYPE_IQ4_XS: out[0] = umi_dot_iq4_xs_lanes8; break;
    }
}

static void test_orders_vs_traits(void) {
    enum { K = 4096, ROWS = 24 };
    const umi_type_traits *q8k = umi_type_traits_get(UMI_TYPE_Q8_K);
    float *x = xmalloc(K * sizeof(float)), *wf = xmalloc(K * sizeof(float));
    float *af = xmalloc(K * sizeof(float));
    void *a = xmalloc(umi_type_row_size(UMI_TYPE_Q8_K, K));
    rng_state = 42;
    for (int i = 0; i < N_TYPES; i++) {
        const umi_type_traits *t = umi_type_traits_get(types[i]);
        umi_dot_fn dots[3];
        ordered_dots(types[i], dots);
        double worst[3] = {0, 0, 0};
        for (int r = 0; r < ROWS; r++) {
            void *w = random_weights(types[i], K, 1);
            const float scale = exp2f((float)(int)(rng_next() % 12) - 6);
            for (int e = 0; e < K; e++) x[e] = rng_signed() * scale;
            q8k->from_float(x, a, K);
            t->to_float(w, wf, K);
            q8k->to_float(a, af, K);
            double mag = 0.0;
            for (int e = 0; e < K; e++) mag += fabs((double)wf[e] * af[e]);
            float ref;
            t->vec_dot(K, &ref, w, a);
            for (int d = 0; d < 3; d++) {
                if (!dots[d]) continue;
                const double rel = fabs((double)dots[d](K, w, a) - ref) / (mag > 0 ? mag : 1);
                if (!(rel <= worst[d])) worst[d] = rel; /* NaN sticks */
            }
            free(w);
        }
        static const char *names[3] = {"lanes8", "gemv", "gemm"};
        for (int d = 0; d < 3; d++)
            if (dots[d])
                check(worst[d] <= ORDER_REL_TOL, "%s %s vs traits vec_dot: worst relative %.3g",
                      t->name, names[d], worst[d]);
    }
    free(x), free(wf), free(af), free(a);
}

/* ---------------------------------------------------------------- 3. 4-row quantizer */

static void test_quantizer_x4(void) {
    enum { NB = 64, K = NB * UMI_QK_K };
    float *x = xmalloc(K * sizeof(float));
    umi_block_q8_K *ref = xmalloc(NB * sizeof *ref), *got = xmalloc(NB * sizeof *got);
    rng_state = 7;
    for (int e = 0; e < K; e++) x[e] = rng_signed() * (rng_next() % 8 == 0 ? 4.0f : 0.5f);
    /* Planted cases: block 1 all zero; blocks 2, 3 hold -amax before +amax
     * (the reference's two quantizers pick opposite signs); block 4 +amax
     * first; block 5 a single -amax; block 6 halves (exact .5 ties). */
    for (int e = 0; e < UMI_QK_K; e++) x[UMI_QK_K + e] = 0.0f;
    x[2 * UMI_QK_K + 5] = -9.0f, x[2 * UMI_QK_K + 200] = 9.0f;
    x[3 * UMI_QK_K + 0] = -0.75f, x[3 * UMI_QK_K + 255] = 0.75f;
    for (int e = 0; e < UMI_QK_K; e++) x[3 * UMI_QK_K + e] *= 0.01f;
    x[3 * UMI_QK_K + 0] = -0.75f, x[3 * UMI_QK_K + 255] = 0.75f;
    x[4 * UMI_QK_K + 9] = 9.0f, x[4 * UMI_QK_K + 10] = -9.0f;
    x[5 * UMI_QK_K + 17] = -9.0f;
    for (int e = 0; e < UMI_QK_K; e++) x[6 * UMI_QK_K + e] = (float)((e % 255) - 127) * 0.5f;
    x[6 * UMI_QK_K] = 127.0f;
    umi_type_traits_get(UMI_TYPE_Q8_K)->from_float(x, ref, K);
    umi_quant_from_float_q8_K_x4(x, got, K);
    int n_same = 0, n_negated = 0, n_bad = 0;
    for (int b = 0; b < NB; b++) {
        if (!memcmp(&ref[b], &got[b], sizeof ref[b])) {
            n_same++;
            continue;
        }
        bool negated = got[b].d == -ref[b].d;
        for (int e = 0; e < UMI_QK_K; e++) negated &= got[b].qs[e] == -ref[b].qs[e];
        for (int g = 0; g < UMI_QK_K / 16; g++) negated &= got[b].bsums[g] == -ref[b].bsums[g];
        /* Only a tie block with the negative extreme first may differ. */
        float amax = 0.0f;
        int first = -1;
        for (int e = 0; e < UMI_QK_K; e++)
            if (fabsf(x[b * UMI_QK_K + e]) > amax) amax = fabsf(x[b * UMI_QK_K + e]), first = e;
        bool has_pos = false;
        for (int e = 0; e < UMI_QK_K; e++) has_pos |= x[b * UMI_QK_K + e] == amax;
        const bool tie = first >= 0 && x[b * UMI_QK_K + first] < 0 && has_pos;
        if (negated && tie) n_negated++;
        else n_bad++, check(false, "q8_K x4 block %d differs from the traits quantizer", b);
    }
    check(n_negated == 2 && n_same == NB - 2 && n_bad == 0,
          "q8_K x4: %d same, %d negated (want %d, 2)", n_same, n_negated, NB - 2);
    /* Negation leaves products unchanged, bit for bit. */
    rng_state = 8;
    void *w = random_weights(UMI_TYPE_Q4_K, K, 1);
    check(umi_dot_q4_K_gemm(K, w, ref) == umi_dot_q4_K_gemm(K, w, got),
          "q8_K x4: negated blocks change a dot");
    free(w), free(x), free(ref), free(got);
}

/* ---------------------------------------------------------------- 4. pinned products */

/* y = W x through the plans for an [k, m] weight and n_tok tokens; m * n_tok
 * results, token-major. */
static void planned_product(uint32_t type, int k, int m, int n_tok, const void *w,
                            const float *x, float *y) {
    const umi_type_traits *t = umi_type_traits_get(type);
    const umi_type_traits *at = umi_type_traits_get(t->vec_dot_type);
    const size_t w_row = umi_type_row_size(type, k), a_row = umi_type_row_size(t->vec_dot_type, k);
    void *a = xmalloc(a_row);
    for (int tok = 0; tok < n_tok; tok++) {
        const umi_kernel_plan p = umi_kernels_plan(type, k, m, n_tok, tok);
        (p.act ? p.act : at->from_float)(x + (size_t)tok * k, a, k);
        for (int r = 0; r < m; r++) {
            const void *wr = (const char *)w + (size_t)r * w_row;
            if (p.dot) y[tok * m + r] = p.dot(k, wr, a);
            else t->vec_dot(k, &y[tok * m + r], wr, a);
        }
    }
    free(a);
}

/* Reference results for k = 512: bits of y[0] and the FNV-1a hash of all
 * m * n_tok results' bytes. Inputs: rng_state = 0x1234567 * (type * 1000 +
 * m * 10 + n_tok); weights from random_weights, then a scale 2^(r % 8 - 4)
 * and k * n_tok activations rng_signed() * scale. */
static const struct { uint32_t type; int m, n_tok; uint32_t first, hash; } pinned[] = {
    {UMI_TYPE_Q2_K, 16, 1, 0x42100b91, 0x232349aeu}, /* repacked */
    {UMI_TYPE_Q2_K, 16, 3, 0xbfa2d4da, 0x17732d85u}, /* repacked */
    {UMI_TYPE_Q2_K, 16, 4, 0x429d78d0, 0x7ae691b4u}, /* repacked */
    {UMI_TYPE_Q2_K, 16, 7, 0x41851f3b, 0x2f8f3f14u}, /* repacked */
    {UMI_TYPE_Q2_K, 12, 1, 0xc1eebf6e, 0xae7ad32eu}, /* vec_dot */
    {UMI_TYPE_Q2_K, 12, 3, 0x4189f50e, 0xcbde5a00u}, /* vec_dot */
    {UMI_TYPE_Q2_K, 12, 4, 0x40f17fba, 0x502cc216u}, /* vec_dot */
    {UMI_TYPE_Q2_K, 12, 7, 0xbef59600, 0xe9fad141u}, /* vec_dot */
    {UMI_TYPE_Q3_K, 16, 1, 0x43f51375, 0x1f81bddau}, /* vec_dot */
    {UMI_TYPE_Q3_K, 16, 3, 0xc19e4ec5, 0x1495e8a5u}, /* vec_dot */
    {UMI_TYPE_Q3_K, 16, 4, 0xc2d78ed8, 0xa63ddbcdu}, /* vec_dot */
    {UMI_TYPE_Q3_K, 16, 7, 0x404a63de, 0x6d4a18fdu}, /* vec_dot */
    {UMI_TYPE_Q3_K, 12, 1, 0xc0c623af, 0xebc1b513u}, /* vec_dot */
    {UMI_TYPE_Q3_K, 12, 3, 0x4006b9c3, 0x784701a6u}, /* vec_dot */
    {UMI_TYPE_Q3_K, 12, 4, 0xc302cd16, 0xdcb1b43cu}, /* vec_dot */
    {UMI_TYPE_Q3_K, 12, 7, 0xc5211a87, 0xc4dd1955u}, /* vec_dot */
    {UMI_TYPE_Q4_K, 16, 1, 0xc6392bd8, 0x5764067eu}, /* repacked */
    {UMI_TYPE_Q4_K, 16, 3, 0x448125ea, 0x8cd91624u}, /* repacked */
    {UMI_TYPE_Q4_K, 16, 4, 0xc48066ea, 0xac208332u}, /* repacked */
    {UMI_TYPE_Q4_K, 16, 7, 0xc55c9c34, 0x06cf9623u}, /* repacked */
    {UMI_TYPE_Q4_K, 12, 1, 0x42956f76, 0xc6c84ceau}, /* vec_dot */
    {UMI_TYPE_Q4_K, 12, 3, 0x43e85b17, 0x99b4f35bu}, /* vec_dot */
    {UMI_TYPE_Q4_K, 12, 4, 0x438fc80e, 0x531203adu}, /* vec_dot */
    {UMI_TYPE_Q4_K, 12, 7, 0xc728940a, 0x8781753du}, /* vec_dot */
    {UMI_TYPE_Q5_K, 16, 1, 0x427ba912, 0xbf3f80c4u}, /* vec_dot */
    {UMI_TYPE_Q5_K, 16, 3, 0xc40c4a55, 0x74de0100u}, /* vec_dot */
    {UMI_TYPE_Q5_K, 16, 4, 0xc49e45d8, 0x582b23e1u}, /* vec_dot */
    {UMI_TYPE_Q5_K, 16, 7, 0x440308e3, 0x1df67aa6u}, /* vec_dot */
    {UMI_TYPE_Q5_K, 12, 1, 0x442880c7, 0xd207861eu}, /* vec_dot */
    {UMI_TYPE_Q5_K, 12, 3, 0xc5bbce59, 0x88ef07b3u}, /* vec_dot */
    {UMI_TYPE_Q5_K, 12, 4, 0xc31acb82, 0x536d020fu}, /* vec_dot */
    {UMI_TYPE_Q5_K, 12, 7, 0xc5eed596, 0xb5e4f73au}, /* vec_dot */
    {UMI_TYPE_Q6_K, 16, 1, 0xc37f4b80, 0x922c893du}, /* vec_dot */
    {UMI_TYPE_Q6_K, 16, 3, 0x451b1f5c, 0xa13085afu}, /* vec_dot */
    {UMI_TYPE_Q6_K, 16, 4, 0xc4e1bd0d, 0xc0431dffu}, /* vec_dot */
    {UMI_TYPE_Q6_K, 16, 7, 0xc581419c, 0x95a81261u}, /* vec_dot */
    {UMI_TYPE_Q6_K, 12, 1, 0xc5a51440, 0x8a3a7f90u}, /* vec_dot */
    {UMI_TYPE_Q6_K, 12, 3, 0x465cc270, 0x7f79f792u}, /* vec_dot */
    {UMI_TYPE_Q6_K, 12, 4, 0x45a3f5bc, 0x000df9e3u}, /* vec_dot */
    {UMI_TYPE_Q6_K, 12, 7, 0x479a0a64, 0x828161dfu}, /* vec_dot */
    {UMI_TYPE_IQ4_XS, 16, 1, 0xc4548643, 0x37c7821du}, /* vec_dot */
    {UMI_TYPE_IQ4_XS, 16, 3, 0x482ce959, 0xdfd3030bu}, /* vec_dot */
    {UMI_TYPE_IQ4_XS, 16, 4, 0x45c03050, 0xe046ada0u}, /* vec_dot */
    {UMI_TYPE_IQ4_XS, 16, 7, 0xc5158ad7, 0xff2aa90eu}, /* vec_dot */
    {UMI_TYPE_IQ4_XS, 12, 1, 0xc60028aa, 0x446ccb49u}, /* vec_dot */
    {UMI_TYPE_IQ4_XS, 12, 3, 0x44bb657d, 0xa84ca617u}, /* vec_dot */
    {UMI_TYPE_IQ4_XS, 12, 4, 0x45d82baa, 0x08eaf7fcu}, /* vec_dot */
    {UMI_TYPE_IQ4_XS, 12, 7, 0x470c98e1, 0x58e4ab86u}, /* vec_dot */
};

static void test_pinned_products(void) {
    enum { K = 512 };
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
        const int m = pinned[i].m, n = pinned[i].n_tok;
        rng_state = 0x1234567ull * (uint64_t)(pinned[i].type * 1000 + m * 10 + n);
        void *w = random_weights(pinned[i].type, K, m);
        const float scale = exp2f((float)(int)(rng_next() % 8) - 4);
        float *x = xmalloc((size_t)K * n * sizeof(float)), *y = xmalloc((size_t)m * n * sizeof(float));
        for (int e = 0; e < K * n; e++) x[e] = rng_signed() * scale;
        planned_product(pinned[i].type, K, m, n, w, x, y);
        uint32_t hash = 2166136261u;
        for (int j = 0; j < m * n; j++) {
            const uint32_t bits = umi_fp32_to_bits(y[j]);
            for (int byte = 0; byte < 4; byte++) hash = (hash ^ ((bits >> (8 * byte)) & 0xff)) * 16777619u;
        }
        check(umi_fp32_to_bits(y[0]) == pinned[i].first && hash == pinned[i].hash,
              "%s rows %d tokens %d: y[0] bits 0x%08x hash 0x%08x, reference 0x%08x 0x%08x",
              umi_type_traits_get(pinned[i].type)->name, m, n, umi_fp32_to_bits(y[0]), hash,
              pinned[i].first, pinned[i].hash);
        free(w), free(x), free(y);
    }
}

/* ---------------------------------------------------------------- 5. X16_Q4_K and X16_Q6_K layouts */

/* Block b of row r of a group of nb blocks per row, back in its file form. */
static void layout_get_block(uint32_t type, const void *g, int nb, int r, int b, void *blk) {
    if (type == UMI_TYPE_Q6_K) umi_x16_q6_K_get_block(g, nb, r, b, blk);
    else umi_x16_q4_K_get_block(g, r, b, blk);
}

static void test_x16_kquant(void) {
    static const struct {
        const char *name;
        uint32_t type;
        int layout;
        umi_dot_fn dot;
        umi_tile_fn tile;
        bool x4;
    } CASES[] = {{"X16_Q4_K gemv", UMI_TYPE_Q4_K, UMI_LAYOUT_X16_Q4_K, umi_dot_q4_K_gemv, umi_tile_q4_K_x16_gemv, false},
                 {"X16_Q4_K gemm", UMI_TYPE_Q4_K, UMI_LAYOUT_X16_Q4_K, umi_dot_q4_K_gemm, umi_tile_q4_K_x16_gemm, true},
                 {"X16_Q6_K lanes8", UMI_TYPE_Q6_K, UMI_LAYOUT_X16_Q6_K, umi_dot_q6_K_lanes8, umi_tile_q6_K_x16, false},
                 {"X16_Q6_K lanes8 (x4 acts)", UMI_TYPE_Q6_K, UMI_LAYOUT_X16_Q6_K, umi_dot_q6_K_lanes8,
                  umi_tile_q6_K_x16, true}};
    enum { ROWS = UMI_X16_ROWS, TOKS = 3 };
    for (size_t ci = 0; ci < sizeof CASES / sizeof *CASES; ci++)
        for (int k = UMI_QK_K; k <= 5 * UMI_QK_K; k += 2 * UMI_QK_K) {
            const uint32_t type = CASES[ci].type;
            const size_t bs = umi_type_traits_get(type)->type_size;
            const size_t row = umi_type_row_size(type, k), a_row = umi_type_row_size(UMI_TYPE_Q8_K, k);
            uint8_t *w = random_weights(type, k, ROWS), *g = xmalloc(ROWS * row), blk[sizeof(umi_block_q6_K)];
            umi_layout_pack_group(umi_layout_for_type(type), g, w, k);
            int bad_bytes = 0;
            for (int r = 0; r < ROWS; r++)
                for (int b = 0; b < k / UMI_QK_K; b++) {
                    layout_get_block(type, g, k / UMI_QK_K, r, b, blk);
                    bad_bytes += memcmp(blk, w + r * row + b * bs, bs) != 0;
                }
            check(bad_bytes == 0 && umi_layout_for_type(type) == CASES[ci].layout,
                  "%s k %d: every block reads back as packed (%d differ)", CASES[ci].name, k, bad_bytes);
            float *x = xmalloc(sizeof(float) * (size_t)k), y[TOKS * ROWS];
            uint8_t *a = xmalloc(TOKS * a_row);
            for (int j = 0; j < TOKS; j++) {
                for (int e = 0; e < k; e++) x[e] = rng_signed();
                if (CASES[ci].x4) umi_quant_from_float_q8_K_x4(x, a + j * a_row, k);
                else umi_type_traits_get(UMI_TYPE_Q8_K)->from_float(x, a + j * a_row, k);
            }
            CASES[ci].tile(k, g, row, ROWS, a, a_row, TOKS, y, ROWS);
            int bad = 0;
            for (int j = 0; j < TOKS; j++)
                for (int r = 0; r < ROWS; r++) {
                    const float want = CASES[ci].dot(k, w + r * row, a + j * a_row);
                    bad += umi_fp32_to_bits(want) != umi_fp32_to_bits(y[j * ROWS + r]);
                }
            check(bad == 0, "%s scalar tile, k %d: the dot's bits (%d differ)", CASES[ci].name, k, bad);
            free(w), free(g), free(x), free(a);
        }
}

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    test_x16_kquant();
    test_plans();
    test_orders_vs_traits();
    test_quantizer_x4();
    test_pinned_products();
    printf("test_kernels_kquant: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
