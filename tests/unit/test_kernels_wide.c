/* Batched F16 products on widened activations (kernels/wide.c): the
 * conversion equals F16 rounding then exact widening, and the wide dot, the
 * plan's tile (whole and edge tiles) and umi_kernels_tile_rows over row and
 * token counts that are not multiples of the tile all give the bits of the
 * unwidened dot on the F16 rows: umi_plan_dot_f16_gemm for a batch's plan,
 * umi_plan_dot_f16_vec for a multi-sequence step's (plan_solo_batch). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "infer/memory.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

static int passed, failed;

static void check(bool ok, const char *what, int n) {
    if (ok) passed++;
    else {
        failed++;
        printf("FAIL %s, n=%d\n", what, n);
    }
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static float frand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

static bool same(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

enum { K = 320, ROWS = 19, TOKS = 13 };
static uint16_t w16[ROWS * K], x16[TOKS * K];
static float x32[TOKS * K], xw[TOKS * K], ref[TOKS * ROWS];

/* A widened plan's act, dot, tile (every size up to the plan's) and
 * tile_rows over ragged row and token counts all give the bits of the
 * unwidened dot; the scalar wide dot too, widened plan or not. */
static void check_plan(const char *name, const umi_kernel_plan *p, umi_dot_fn plain, umi_dot_fn wide) {
    char what[96];
    for (int j = 0; j < TOKS; j++)
        for (int i = 0; i < ROWS; i++) ref[j * ROWS + i] = plain(K, w16 + i * K, x16 + j * K);
    bool ok = true;
    for (int j = 0; j < TOKS; j++)
        for (int i = 0; i < ROWS; i++) ok &= same(wide(K, w16 + i * K, xw + j * K), ref[j * ROWS + i]);
    snprintf(what, sizeof what, "%s: scalar wide dot", name);
    check(ok, what, K);
    if (!p->act_wide) return;
    static float xp[TOKS * K];
    for (int j = 0; j < TOKS; j++) p->act(x32 + j * K, xp + j * K, K);
    snprintf(what, sizeof what, "%s: plan act", name);
    check(memcmp(xp, xw, sizeof xw) == 0, what, K);
    ok = true;
    for (int j = 0; j < TOKS; j++)
        for (int i = 0; i < ROWS; i++) ok &= same(p->dot(K, w16 + i * K, xw + j * K), ref[j * ROWS + i]);
    snprintf(what, sizeof what, "%s: plan dot", name);
    check(ok, what, K);
    snprintf(what, sizeof what, "%s: tile", name);
    for (int rm = 1; rm <= p->tile_m && rm <= ROWS; rm++)
        for (int rn = 1; rn <= p->tile_n && rn <= TOKS; rn++) {
            float out[TOKS * ROWS];
            p->tile(K, w16, K * sizeof(uint16_t), rm, xw, K * sizeof(float), rn, out, ROWS);
            ok = true;
            for (int j = 0; j < rn; j++)
                for (int i = 0; i < rm; i++) ok &= same(out[j * ROWS + i], ref[j * ROWS + i]);
            check(ok, what, rm * 100 + rn);
        }
    snprintf(what, sizeof what, "%s: tile_rows", name);
    for (int r0 = 0; r0 < 3; r0++)
        for (int n = 1; n <= TOKS; n += 3) {
            float out[TOKS * ROWS];
            for (int q = 0; q < TOKS * ROWS; q++) out[q] = NAN;
            umi_kernels_tile_rows(p, K, w16, K * sizeof(uint16_t), r0, ROWS, xw, K * sizeof(float), n, out, ROWS);
            ok = true;
            for (int j = 0; j < n; j++)
                for (int i = r0; i < ROWS; i++) ok &= same(out[j * ROWS + i], ref[j * ROWS + i]);
            check(ok, what, r0 * 100 + n);
        }
}

int main(void) {
    const int top = umi_cpu_level_get();
    /* Conversion: F16 rounding (ties, subnormals, overflow, NaN) then widening. */
    {
        static float v[4096], got[4096];
        static uint16_t h[4096];
        const float special[] = {0.0f, -0.0f, 65504.0f, 65519.0f, 65520.0f, -1e9f, 0x1p-25f, 0x1.8p-24f,
                                 0x1p-14f, 1.0f + 0x1p-11f, INFINITY, NAN};
        const int ns = (int)(sizeof special / sizeof *special);
        for (int i = 0; i < 4096; i++) v[i] = i < ns ? special[i] : frand() * (float)(1 << (i % 20)) * 0x1p-8f;
        umi_act_f16_wide(v, got, 4093); /* and a tail shorter than any vector */
        umi_act_f16_wide(v + 4093, got + 4093, 3);
        umi_type_traits_get(UMI_TYPE_F16)->from_float(v, h, 4096);
        bool ok = true;
        for (int i = 0; i < 4096; i++) ok &= same(got[i], umi_fp16_to_fp32(h[i]));
        check(ok, "act = f16 rounding, widened", 4096);
    }
    for (int i = 0; i < ROWS * K; i++) w16[i] = umi_fp32_to_fp16(frand());
    for (int i = 0; i < TOKS * K; i++) x32[i] = frand() * 4.0f;
    umi_type_traits_get(UMI_TYPE_F16)->from_float(x32, x16, TOKS * K);
    umi_act_f16_wide(x32, xw, TOKS * K);

    /* The plans: widened only for batches, and only where the tile exists. */
    int tm = 0, tn = 0;
    const bool gemm_tile = umi_kernels_tile_for(umi_plan_dot_f16_gemm_wide, top, &tm, &tn) != NULL;
    const bool vec_tile = umi_kernels_tile_for(umi_plan_dot_f16_vec_wide, top, &tm, &tn) != NULL;
    const umi_kernel_plan p = umi_kernels_plan(UMI_TYPE_F16, K, ROWS + 1, TOKS, 1); /* rows in fours */
    check(p.act_wide == gemm_tile, "batched plan widens where the tile is", K);
    /* the reference's batched path takes rows in fours: 19 rows keep the vector order */
    check(!umi_kernels_plan(UMI_TYPE_F16, K, ROWS, TOKS, 1).act_wide, "m % 4 != 0 not widened", K);
    check(!umi_kernels_plan(UMI_TYPE_F16, K, ROWS, 1, 0).act_wide, "single token not widened", K);
    check(!umi_kernels_plan(UMI_TYPE_F16, K + 8, ROWS, TOKS, 0).act_wide, "k % 16 != 0 not widened", K + 8);
    check(!umi_kernels_plan_solo(UMI_TYPE_F16, K, ROWS).act_wide, "solo plan not widened", K);
    const umi_kernel_plan pb = umi_kernels_plan_solo_batch(UMI_TYPE_F16, K, ROWS);
    check(pb.act_wide == vec_tile, "solo batch plan widens where the tile is", K);
    check(!umi_kernels_plan_solo_batch(UMI_TYPE_F16, K + 16, ROWS).act_wide, "k % 64 != 0 not widened", K + 16);
    check(umi_mem_act_bytes(UMI_TYPE_F16) >= sizeof(float), "activation buffer holds widened rows", K);
    check_plan("gemm", &p, umi_plan_dot_f16_gemm, umi_plan_dot_f16_gemm_wide);
    check_plan("vec", &pb, umi_plan_dot_f16_vec, umi_plan_dot_f16_vec_wide);
    printf("cpu level %s%s%s\n%d passed, %d failed\n", umi_cpu_level_name((umi_cpu_level)top),
           p.act_wide ? ", gemm widened" : "", pb.act_wide ? ", vec widened" : "", passed, failed);
    return failed ? 1 : 0;
}
