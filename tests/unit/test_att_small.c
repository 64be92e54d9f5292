/* The decode attention steps (kernels/att_small.h): every CPU level's
 * versions against the scalar ones, identical bits, for head sizes with and
 * without an 8-element tail, weights from tiny to overflowing (F16 rounding,
 * subnormals, infinities); and the runs of positions for up to 8 heads at
 * once (scores and accumulator updates) against the scalar ones. */
#include <string.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/att_small.h"
#include "testkit.h"

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    enum { MAXN = 300 };
    static uint16_t acc0[MAXN], acc1[MAXN], v[MAXN], q[MAXN];
    const int lens[] = {1, 7, 8, 15, 16, 63, 64, 80, 128, 136, 256, 300};
    const float ws[] = {0.0f, 1.0f, -0.5f, 1e-3f, 3e-6f, 1e-8f, 0.999f, 7.5f, 300.0f, 7e4f, -1e5f};
    const int top = umi_cpu_level_get();
    /* The scalar level and the SIMD levels this CPU runs. */
    int levels[4], n_levels = 0;
    levels[n_levels++] = UMI_CPU_GENERIC;
    if (top == UMI_CPU_NEON) levels[n_levels++] = UMI_CPU_NEON;
    for (int l = UMI_CPU_AVX2; top != UMI_CPU_NEON && l <= top; l++) levels[n_levels++] = l;
    for (int li_ = 0; li_ < n_levels; li_++) {
        const int level = levels[li_];
        const umi_att_small_kernels k = umi_kernels_att_small(level);
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            const int n = lens[li];
            bool ok_s = true, ok_m = true, ok_d = true;
            for (size_t wi = 0; wi < sizeof ws / sizeof *ws; wi++)
                for (int rep = 0; rep < 8; rep++) {
                    const float scale = rep < 4 ? 1.0f : 1e-4f; /* subnormal halves too */
                    for (int i = 0; i < n; i++) {
                        acc0[i] = acc1[i] = umi_fp32_to_fp16(rng_signed() * 4 * scale);
                        v[i] = umi_fp32_to_fp16(rng_signed() * scale), q[i] = umi_fp32_to_fp16(rng_signed());
                    }
                    const float w = ws[wi] * (rep % 2 ? -1.0f : 1.0f);
                    umi_f16acc_mad(n, acc0, v, w);
                    k.mad(n, acc1, v, w);
                    ok_m &= memcmp(acc0, acc1, (size_t)n * 2) == 0;
                    umi_f16acc_scale(n, acc0, w);
                    k.scale(n, acc1, w);
                    ok_s &= memcmp(acc0, acc1, (size_t)n * 2) == 0;
                    const float d0 = umi_dot_f16_vec(n, v, q), d1 = k.score(n, v, q);
                    ok_d &= memcmp(&d0, &d1, sizeof d0) == 0;
                }
            const char *ln = umi_cpu_level_name((umi_cpu_level)level);
            check(ok_m, "f16acc mad at level %s, n=%d", ln, n);
            check(ok_s, "f16acc scale at level %s, n=%d", ln, n);
            check(ok_d, "score dot at level %s, n=%d", ln, n);
        }
    }
    /* Runs of positions for g heads at once: every level's scores and
     * accumulator updates against the scalar ones (rescales mixed in). */
    enum { RUN = 37, G = 8 };
    static uint16_t keys[RUN][MAXN], vals[RUN][MAXN], qs[G * MAXN], a0[G * MAXN], a1[G * MAXN];
    static float sc0[G * RUN], sc1[G * RUN], ms[G * RUN], vs[G * RUN];
    static bool rescale[G * RUN];
    const uint16_t *kr[RUN], *vr[RUN];
    const int hds[] = {32, 48, 64, 80, 128, 256};
    for (int li_ = 0; li_ < n_levels; li_++) {
        const int level = levels[li_];
        const umi_att_small_kernels k = umi_kernels_att_small(level);
        for (size_t hi = 0; hi < sizeof hds / sizeof *hds; hi++)
            for (int g = 1; g <= G; g++) {
                const int n = hds[hi], n_pos = 1 + (int)(rng_next() % RUN);
                for (int i = 0; i < n_pos; i++) {
                    for (int e = 0; e < n; e++)
                        keys[i][e] = umi_fp32_to_fp16(rng_signed()), vals[i][e] = umi_fp32_to_fp16(rng_signed() * 2);
                    kr[i] = keys[i], vr[i] = vals[i];
                }
                for (int e = 0; e < g * n; e++) {
                    qs[e] = umi_fp32_to_fp16(rng_signed());
                    a0[e] = a1[e] = umi_fp32_to_fp16(rng_signed() * 4);
                }
                for (int o = 0; o < g * n_pos; o++) {
                    rescale[o] = rng_next() % 4 == 0;
                    ms[o] = rng_signed() * 1.5f, vs[o] = rng_signed() * (rng_next() % 2 ? 1e-3f : 3.0f);
                }
                umi_f16acc_scores(n, kr, qs, g, sc0, n_pos);
                k.scores(n, kr, qs, g, sc1, n_pos);
                umi_f16acc_rows(n, a0, g, vr, rescale, ms, vs, n_pos);
                k.rows(n, a1, g, vr, rescale, ms, vs, n_pos);
                const char *ln = umi_cpu_level_name((umi_cpu_level)level);
                check(memcmp(sc0, sc1, sizeof(float) * (size_t)(g * n_pos)) == 0,
                      "scores of %d heads at level %s, n=%d, %d positions", g, ln, n, n_pos);
                check(memcmp(a0, a1, sizeof(uint16_t) * (size_t)(g * n)) == 0,
                      "f16acc rows of %d heads at level %s, n=%d, %d positions", g, ln, n, n_pos);
            }
    }
    printf("cpu level %s\n%d passed, %d failed\n", umi_cpu_level_name((umi_cpu_level)top), n_pass, n_fail);
    return n_fail ? 1 : 0;
}
