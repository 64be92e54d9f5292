/* exp(x) by the polynomial the reference engine's vector kernels use (ARM
 * optimized-routines' expf: x = n ln2 + b, result 2^n * p(b), p of degree 5,
 * fused multiply-adds throughout). Written per element so that SiLU and
 * softmax round exactly as the reference's do; within ~1.5 ulp of expf. */
#ifndef UMI_CORE_EXPF_H
#define UMI_CORE_EXPF_H

#include <math.h>
#include <stdint.h>

static inline float umi_expf_poly(float x) {
    const float shift = 0x1.8p23f;
    const float z = fmaf(x, 0x1.715476p+0f, shift);
    const float n = z - shift; /* round(x / ln2) */
    if (fabsf(n) > 192.0f) return n > 0.0f ? INFINITY : 0.0f;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    const float u = b * b;
    const float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                              fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                         u, fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (fabsf(n) <= 126.0f) { /* 2^n is a normal float: j * 2^n rounds once, as ldexpf does */
        const union { uint32_t u; float f; } s = {.u = (uint32_t)((int)n + 127) << 23};
        return j * s.f;
    }
    return ldexpf(j, (int)n);
}

#endif
