#include "core/cpu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static umi_cpu_features g_features;
static umi_cpu_level g_level;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static umi_cpu_level cap_from_env(umi_cpu_level best) {
    const char *v = getenv("UMI_CPU");
    if (!v || !*v) return best;
    umi_cpu_level want = best;
    if (strcmp(v, "generic") == 0) want = UMI_CPU_GENERIC;
    else if (strcmp(v, "avx2") == 0) want = UMI_CPU_AVX2;
    else if (strcmp(v, "avx512") == 0) want = UMI_CPU_AVX512;
    else if (strcmp(v, "neon") == 0) want = UMI_CPU_NEON;
    /* Only step down within the same family. */
    if (want == UMI_CPU_GENERIC) return want;
    if (best == UMI_CPU_NEON) return want == UMI_CPU_NEON ? want : best;
    return want <= best && want != UMI_CPU_NEON ? want : best;
}

static void detect(void) {
    umi_cpu_features *f = &g_features;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f->avx2 = __builtin_cpu_supports("avx2");
    f->fma = __builtin_cpu_supports("fma");
    f->f16c = __builtin_cpu_supports("f16c");
    f->avx512f = __builtin_cpu_supports("avx512f");
    f->avx512bw = __builtin_cpu_supports("avx512bw");
    f->avx512vl = __builtin_cpu_supports("avx512vl");
    f->avx512vnni = __builtin_cpu_supports("avx512vnni");
    f->avx512bf16 = __builtin_cpu_supports("avx512bf16");
    umi_cpu_level best = UMI_CPU_GENERIC;
    if (f->avx2 && f->fma && f->f16c) best = UMI_CPU_AVX2;
    if (best == UMI_CPU_AVX2 && f->avx512f && f->avx512bw && f->avx512vl) best = UMI_CPU_AVX512;
#elif defined(__aarch64__)
    f->neon = true; /* mandatory in AArch64 */
#if defined(__ARM_FEATURE_DOTPROD)
    f->dotprod = true;
#endif
    umi_cpu_level best = UMI_CPU_NEON;
#else
    umi_cpu_level best = UMI_CPU_GENERIC;
#endif
    g_level = cap_from_env(best);
}

const umi_cpu_features *umi_cpu_features_get(void) {
    pthread_once(&g_once, detect);
    return &g_features;
}

umi_cpu_level umi_cpu_level_get(void) {
    pthread_once(&g_once, detect);
    return g_level;
}

const char *umi_cpu_level_name(umi_cpu_level level) {
    switch (level) {
    case UMI_CPU_GENERIC: return "generic";
    case UMI_CPU_AVX2: return "avx2";
    case UMI_CPU_AVX512: return "avx512";
    case UMI_CPU_NEON: return "neon";
    }
    return "?";
}
