/* The umi_expf_poly row loops (kernels/expf_rows.h): every CPU level's
 * versions against loops written here from the scalar function, identical
 * bits, on inputs from tiny to overflowing: exponentials that are normal,
 * subnormal (the ldexpf lanes), zero and infinite, and NaN, infinite and
 * signed-zero inputs. */
#include <math.h>
#include <string.h>

#include "core/cpu.h"
#include "core/expf.h"
#include "kernels/expf_rows.h"
#include "kernels/kernels.h"
#include "testkit.h"

enum { N = 256 };

/* An input of magnitude class c: small, exp's normal range, the subnormal
 * (ldexpf) range, overflow and underflow, and special values. */
static float sample(int c) {
    switch (c % 6) {
    case 0: return rng_signed() * 4.0f;
    case 1: return rng_signed() * 80.0f;
    case 2: return (rng_signed() < 0 ? -1.0f : 1.0f) * (87.0f + (rng_signed() + 1.0f) * 25.0f);
    case 3: return rng_signed() * 300.0f;
    case 4: {
        const float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 88.7f, -103.9f};
        const int i = (int)((rng_signed() + 1.0f) * 4.5f);
        return sp[i < 9 ? i : 8];
    }
    default: return rng_signed() * 1e-3f;
    }
}

/* Identical bits, except that any NaN matches any NaN: which input NaN an
 * operation passes on (and so its sign) is the hardware's or libm's choice
 * (a portable build's scalar fmaf is glibc's software one, whose NaN from
 * fmaf(-NaN, c, NaN) has the other sign than the FMA instruction's). */
static bool same(const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof *a) != 0 && !(isnan(a[i]) && isnan(b[i]))) return false;
    return true;
}

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    static float g[N], u[N], p0[N], p1[N], o0[N], o1[N];
    const int top = umi_cpu_level_get();
    int levels[4], n_levels = 0;
    levels[n_levels++] = UMI_CPU_GENERIC;
    if (top == UMI_CPU_NEON) levels[n_levels++] = UMI_CPU_NEON;
    for (int l = UMI_CPU_AVX2; top != UMI_CPU_NEON && l <= top; l++) levels[n_levels++] = l;
    for (int li = 0; li < n_levels; li++) {
        const umi_expf_rows ex = umi_kernels_expf_rows(levels[li]);
        const char *ln = umi_cpu_level_name((umi_cpu_level)levels[li]);
        bool ok_silu = true, ok_exp = true, ok_sum = true, ok_scale = true, ok_max = true;
        for (int rep = 0; rep < 200; rep++) {
            const int n = 16 * (1 + rep % (N / 16));
            for (int i = 0; i < n; i++) g[i] = sample(rep + i), u[i] = rng_signed() * 3.0f;
            /* silu_mul, in place and into another buffer */
            for (int i = 0; i < n; i++) o0[i] = g[i] / (1.0f + umi_expf_poly(-g[i])) * u[i];
            ex.silu_mul(o1, g, u, n);
            ok_silu &= same(o0, o1, n);
            memcpy(o1, g, sizeof g);
            ex.silu_mul(o1, o1, u, n);
            ok_silu &= same(o0, o1, n);
            /* exp_sum */
            const float m = rep % 3 ? rng_signed() * 20.0f : 0.0f;
            double s0 = 0.0;
            for (int i = 0; i < n; i += UMI_LANES) {
                for (int l = 0; l < UMI_LANES; l++) p0[i + l] = umi_expf_poly(g[i + l] - m);
                s0 += (double)umi_reduce16(p0 + i);
            }
            memcpy(p1, g, sizeof g);
            const double s1 = ex.exp_sum(p1, n, m);
            ok_exp &= same(p0, p1, n);
            ok_sum &= memcmp(&s0, &s1, sizeof s0) == 0 || (isnan(s0) && isnan(s1));
            /* scale_max over a window [lo, hi) */
            const int lo = rep % 4 ? 0 : rep % n, hi = rep % 5 ? n : n / 2;
            const float sc = rep % 2 ? 0.125f : 1.0f;
            float max0 = -INFINITY;
            for (int i = 0; i < n; i++) {
                p0[i] = i < lo || i >= hi ? -INFINITY : g[i] * sc;
                if (!(i < lo || i >= hi) && p0[i] > max0) max0 = p0[i];
            }
            memcpy(p1, g, sizeof g);
            const float max1 = ex.scale_max(p1, n, sc, lo, hi);
            ok_scale &= same(p0, p1, n);
            ok_max &= max0 == max1; /* +0 and -0 may differ: both give the same exponentials */
        }
        check(ok_silu, "silu_mul at level %s", ln);
        check(ok_exp, "exp_sum values at level %s", ln);
        check(ok_sum, "exp_sum sum at level %s", ln);
        check(ok_scale, "scale_max values at level %s", ln);
        check(ok_max, "scale_max maximum at level %s", ln);
    }
    printf("cpu level %s\n%d passed, %d failed\n", umi_cpu_level_name((umi_cpu_level)top), n_pass, n_fail);
    return n_fail ? 1 : 0;
}
