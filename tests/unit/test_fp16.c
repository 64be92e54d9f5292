/* test_fp16 — the fp16 and bf16 conversions (core/fp16.h): exhaustive and
 * edge cases (ties, subnormals, overflow, NaN payloads), against x86 F16C
 * when the build has it, and the kernels' always-F16C forms against this
 * build's own where the CPU has F16C.
 *
 * Usage: test_fp16 <source_dir> <shared_dir>. UMI_TEST_QUICK=1 samples less.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "core/fp16.h"

#if defined(__x86_64__)
#include "core/cpu.h"
__attribute__((target("f16c"))) static float hw_widen(uint16_t h) { return umi_fp16_to_fp32_f16c(h); }
__attribute__((target("f16c"))) static uint16_t hw_narrow(float f) { return umi_fp32_to_fp16_f16c(f); }
#endif

#define TESTKIT_SEED 0x9e3779b97f4a7c15ull
#include "unit/testkit.h"

static bool quick;

static float fp16_value_ref(uint16_t h) { /* straight from the definition */
    const int exp = (h >> 10) & 31, mant = h & 1023;
    const double mag = exp == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, exp - 25);
    return (float)((h & 0x8000) ? -mag : mag);
}

static void test_fp16(void) {
    int bad_widen = 0, bad_roundtrip = 0, bad_nan = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = umi_fp16_to_fp32((uint16_t)h);
        const bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (is_nan) {
            const uint32_t b = umi_fp32_to_bits(f);
            bad_nan += !isnan(f) || ((b >> 13) & 0x1ff) != (h & 0x1ff) || !(b & 0x400000);
            bad_nan += umi_fp32_to_fp16(f) != (h | 0x200); /* quiet, payload kept */
            continue;
        }
        const bool is_inf = (h & 0x7fff) == 0x7c00;
        const float want = is_inf ? ((h & 0x8000) ? -INFINITY : INFINITY) : fp16_value_ref((uint16_t)h);
        bad_widen += umi_fp32_to_bits(f) != umi_fp32_to_bits(want);
        bad_roundtrip += umi_fp32_to_fp16(f) != h;
    }
    check(bad_widen == 0, "fp16->fp32: %d of 65536 values wrong", bad_widen);
    check(bad_roundtrip == 0, "fp16->fp32->fp16: %d values do not round-trip", bad_roundtrip);
    check(bad_nan == 0, "fp16 NaN: %d payload/quiet errors", bad_nan);

    /* Between every two adjacent halves: the midpoint goes to the even one,
     * one float ulp either side goes to the nearer one. 0x7c00 (inf) stands
     * after 65504 at 65536, so 65520 is the overflow threshold. */
    int bad_ties = 0;
    for (uint16_t h = 0; h < 0x7c00; h++) {
        const float a = fp16_value_ref(h);
        const float b = h + 1 == 0x7c00 ? 65536.0f : fp16_value_ref((uint16_t)(h + 1));
        const float mid = (a + b) / 2; /* exact: a, b have 11 significant bits */
        for (int neg = 0; neg < 2; neg++) {
            const float s = neg ? -1.0f : 1.0f;
            const uint16_t sign = neg ? 0x8000 : 0;
            const uint16_t even = (h & 1) ? (uint16_t)(h + 1) : h;
            bad_ties += umi_fp32_to_fp16(s * mid) != (sign | even);
            bad_ties += umi_fp32_to_fp16(s * nextafterf(mid, INFINITY)) != (sign | (h + 1));
            bad_ties += umi_fp32_to_fp16(s * nextafterf(mid, 0.0f)) != (sign | h);
        }
    }
    check(bad_ties == 0, "fp32->fp16 rounding at midpoints: %d errors", bad_ties);

    const struct { uint32_t in; uint16_t out; } cases[] = {
        {0x00000000, 0x0000}, {0x80000000, 0x8000}, {0x3f800000, 0x3c00},
        {0x477fe000, 0x7bff}, /* 65504 */ {0x477fefff, 0x7bff}, {0x477ff000, 0x7c00},
        {0x7f7fffff, 0x7c00}, {0x7f800000, 0x7c00}, {0xff800000, 0xfc00},
        {0x33000000, 0x0000}, /* 2^-25: tie between 0 and 2^-24 -> 0 */
        {0x33000001, 0x0001}, {0x33800000, 0x0001}, /* 2^-24 */
        {0x33c00000, 0x0002}, /* 1.5 * 2^-24: tie -> 2 */
        {0x34200000, 0x0002}, /* 2.5 * 2^-24: tie -> 2 */
        {0x387fc000, 0x03ff}, /* largest subnormal */
        {0x387fe000, 0x0400}, /* tie above it rounds up into the normals */
        {0x00000001, 0x0000}, {0x80800000, 0x8000},
        {0x7fc00000, 0x7e00}, {0xffc00000, 0xfe00}, {0x7f800001, 0x7e00},
        {0x7fa00000, 0x7f00},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint16_t got = umi_fp32_to_fp16(umi_bits_to_fp32(cases[i].in));
        check(got == cases[i].out, "fp32->fp16(0x%08x) = 0x%04x, want 0x%04x", cases[i].in, got,
              cases[i].out);
    }

#if defined(__F16C__)
    /* The hardware converter on sampled bit patterns (all classes). */
    int bad_hw = 0;
    const int n_samples = quick ? 1 << 18 : 1 << 22;
    for (int i = 0; i < n_samples; i++) {
        const uint32_t bits = (uint32_t)rng_next();
        const float f = umi_bits_to_fp32(bits);
        bad_hw += umi_fp32_to_fp16(f) != (uint16_t)_cvtss_sh(f, 0);
    }
    for (uint32_t h = 0; h < 65536; h++)
        bad_hw += umi_fp32_to_bits(umi_fp16_to_fp32((uint16_t)h)) !=
                  umi_fp32_to_bits(_cvtsh_ss((unsigned short)h));
    check(bad_hw == 0, "fp16 conversions differ from F16C hardware on %d inputs", bad_hw);
#else
    printf("note: F16C not enabled in this build; hardware cross-check skipped\n");
#endif
#if defined(__x86_64__)
    /* The kernels' F16C forms (fp16.h) against the forms of this build (the
     * integer code in a portable build), where the CPU has F16C. */
    if (umi_cpu_features_get()->f16c) {
        int bad_f16c = 0;
        for (int i = 0; i < (quick ? 1 << 18 : 1 << 22); i++) {
            const float f = umi_bits_to_fp32((uint32_t)rng_next());
            bad_f16c += umi_fp32_to_fp16(f) != hw_narrow(f);
        }
        for (uint32_t h = 0; h < 65536; h++)
            bad_f16c += umi_fp32_to_bits(umi_fp16_to_fp32((uint16_t)h)) != umi_fp32_to_bits(hw_widen((uint16_t)h));
        check(bad_f16c == 0, "umi_fp16_to_fp32_f16c / umi_fp32_to_fp16_f16c differ on %d inputs", bad_f16c);
    }
#endif
}

/* Round to nearest even by comparing distances in double. */
static uint16_t bf16_ref(float f) {
    const uint32_t bits = umi_fp32_to_bits(f);
    const uint16_t lo = (uint16_t)(bits >> 16), hi = (uint16_t)(lo + 1);
    const double dlo = fabs((double)f - (double)umi_bf16_to_fp32(lo));
    const double vhi = (hi & 0x7f80) == 0x7f80 ? copysign(ldexp(1.0, 128), f)
                                                : (double)umi_bf16_to_fp32(hi);
    const double dhi = fabs((double)f - vhi);
    if (dlo != dhi) return dlo < dhi ? lo : hi;
    return (lo & 1) ? hi : lo;
}

static void test_bf16(void) {
    int bad = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        const float f = umi_bf16_to_fp32((uint16_t)b);
        bad += umi_fp32_to_bits(f) != b << 16;
        if ((b & 0x7f80) == 0x7f80 && (b & 0x7f))
            bad += umi_fp32_to_bf16(f) != (b | 0x40);
        else
            bad += umi_fp32_to_bf16(f) != b;
    }
    check(bad == 0, "bf16 widen/round-trip: %d errors", bad);

    int bad_rand = 0;
    const int n_samples = quick ? 1 << 16 : 1 << 20;
    for (int i = 0; i < n_samples; i++) {
        const float f = umi_bits_to_fp32((uint32_t)rng_next());
        if (isnan(f) || isinf(f)) continue;
        bad_rand += umi_fp32_to_bf16(f) != bf16_ref(f);
    }
    check(bad_rand == 0, "fp32->bf16 vs distance-based rounding: %d errors", bad_rand);

    const struct { uint32_t in; uint16_t out; } cases[] = {
        {0x3f808000, 0x3f80}, /* tie, even stays */ {0x3f818000, 0x3f82}, /* tie, odd rounds up */
        {0x3f808001, 0x3f81}, {0x7f7fffff, 0x7f80}, /* FLT_MAX rounds to inf */
        {0x00008000, 0x0000}, {0x00018000, 0x0002}, {0x80000000, 0x8000},
        {0x7f800000, 0x7f80}, {0xff800000, 0xff80},
        {0x7fc00000, 0x7fc0}, {0x7f800001, 0x7fc0}, {0xffa00000, 0xffe0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint16_t got = umi_fp32_to_bf16(umi_bits_to_fp32(cases[i].in));
        check(got == cases[i].out, "fp32->bf16(0x%08x) = 0x%04x, want 0x%04x", cases[i].in, got,
              cases[i].out);
    }
}

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    quick = getenv("UMI_TEST_QUICK") != NULL;
    test_fp16();
    test_bf16();
    printf("test_fp16: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
