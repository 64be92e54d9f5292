/* Half-precision (IEEE binary16) and brain-float (bf16) conversions.
 *
 * Portable integer code (or, when the build targets F16C, and on AArch64,
 * the hardware conversion, which gives the same bits), so the result never
 * depends on the compiler's floating-point options or on the instruction set:
 *   - fp16 -> fp32 and bf16 -> fp32 are exact (every value widens exactly).
 *   - fp32 -> fp16 rounds to nearest, ties to even, into subnormals too;
 *     values at or above 65520 become infinity; NaN stays NaN, made quiet,
 *     keeping the top payload bits (as x86 F16C's vcvtps2ph does).
 *   - fp32 -> bf16 rounds to nearest, ties to even; NaN becomes the quiet NaN
 *     with the same top 16 bits plus the quiet bit (as GGML's converter does).
 *
 * The scalar forms are inline because every dequantizer reads one half per
 * block; the row forms live in fp16.c.
 */
#ifndef UMI_CORE_FP16_H
#define UMI_CORE_FP16_H

#include <stdint.h>
#include <string.h>

static inline float umi_bits_to_fp32(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint32_t umi_fp32_to_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* The hardware conversions, for x86 SIMD kernels: their functions are
 * compiled for F16C by attribute even where the build does not target it
 * (cmake -DUMI_NATIVE=OFF), where the forms below take the integer path.
 * The same bits (tests/unit/test_quant.c). Always inlined, so that a
 * caller not compiled for F16C fails to build rather than running them. */
__attribute__((target("f16c"), always_inline)) static inline float umi_fp16_to_fp32_f16c(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}
__attribute__((target("f16c"), always_inline)) static inline uint16_t umi_fp32_to_fp16_f16c(float f) {
    return (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), 0), 0);
}
#endif

/* binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits. */
static inline float umi_fp16_to_fp32(uint16_t h) {
#if defined(__F16C__)
    /* The hardware conversion gives the same bits (tests/unit/test_quant.c
     * checks all 65536 inputs) at a fraction of the cost in hot loops. */
    return _cvtsh_ss(h);
#elif defined(__aarch64__)
    /* AArch64's FCVT widens exactly and quiets NaNs keeping the payload,
     * as below (tests/cli/test_arm.sh runs test_fp16 under qemu). */
    {
        __fp16 x;
        memcpy(&x, &h, sizeof x);
        float f;
        __asm__("fcvt %s0, %h1" : "=w"(f) : "w"(x));
        return f;
    }
#endif
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;

    if (exp == 0x1f) { /* inf, or NaN forced quiet */
        const uint32_t quiet = mant ? 0x00400000u : 0;
        return umi_bits_to_fp32(sign | 0x7f800000u | quiet | (mant << 13));
    }
    if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact in fp32 */
        const float mag = (float)mant * 0x1p-24f;
        return sign ? -mag : mag;
    }
    /* normal: rebias the exponent from 15 to 127 */
    return umi_bits_to_fp32(sign | ((exp + 112u) << 23) | (mant << 13));
}

static inline uint16_t umi_fp32_to_fp16(float f) {
#if defined(__F16C__)
    return _cvtss_sh(f, 0); /* round to nearest even, as below */
#elif defined(__aarch64__)
    { /* FCVT in the default round-to-nearest-even mode; in asm, since the
       * compiler would fold a widen-then-narrow of a signaling NaN away */
        __fp16 x;
        __asm__("fcvt %h0, %s1" : "=w"(x) : "w"(f));
        uint16_t out;
        memcpy(&out, &x, sizeof out);
        return out;
    }
#endif
    const uint32_t bits = umi_fp32_to_bits(f);
    const uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    const uint32_t abs = bits & 0x7fffffffu;

    if (abs > 0x7f800000u) /* NaN: quiet bit + top 9 payload bits */
        return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
    /* 65520 is halfway between 65504 (the largest half, odd mantissa) and
     * 65536, so it and everything above rounds to infinity. */
    if (abs >= 0x477ff000u)
        return (uint16_t)(sign | 0x7c00u);

    if (abs >= 0x38800000u) { /* result is normal (>= 2^-14) */
        /* Drop 13 mantissa bits and rebias 127 -> 15; a carry out of the
         * mantissa correctly bumps the exponent. */
        uint32_t h = (abs >> 13) - (112u << 10);
        const uint32_t rest = abs & 0x1fffu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
            h++;
        return (uint16_t)(sign | h);
    }

    /* Subnormal result: the half is round(|f| * 2^24). |f| = m * 2^(e-150)
     * with the implicit bit in m, so the half is m >> (126 - e), rounded. */
    const uint32_t e = abs >> 23;
    if (e < 102) /* |f| <= 2^-25 (at most half of the smallest subnormal) */
        return sign;
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e; /* 14..24 */
    uint32_t h = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1u)))
        h++; /* may become 0x400, the smallest normal: still the right code */
    return (uint16_t)(sign | h);
}

/* bf16 is the top half of an fp32. */
static inline float umi_bf16_to_fp32(uint16_t b) {
    return umi_bits_to_fp32((uint32_t)b << 16);
}

static inline uint16_t umi_fp32_to_bf16(float f) {
    const uint32_t bits = umi_fp32_to_bits(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it NaN after truncation */
        return (uint16_t)((bits >> 16) | 0x40u);
    /* Adding 0x7fff (+1 when the kept part is odd) carries into bit 16 exactly
     * when the dropped half is above the tie, or at the tie with an odd result. */
    const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)((bits + rounding) >> 16);
}

/* Row conversions (n elements, buffers must not overlap). */
void umi_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n);
void umi_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n);
void umi_bf16_to_fp32_row(const uint16_t *x, float *y, int64_t n);
void umi_fp32_to_bf16_row(const float *x, uint16_t *y, int64_t n);

#endif
