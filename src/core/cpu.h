/* CPU features, detected once, for choosing kernels at run time.
 *
 * UMI_CPU=generic|avx2|avx512 in the environment caps what is used (for
 * tests and comparisons); a level the CPU lacks is never chosen. */
#ifndef UMI_CORE_CPU_H
#define UMI_CORE_CPU_H

#include <stdbool.h>

typedef enum umi_cpu_level {
    UMI_CPU_GENERIC = 0, /* portable scalar C */
    UMI_CPU_AVX2 = 1,    /* x86-64 AVX2 + FMA + F16C */
    UMI_CPU_AVX512 = 2,  /* + AVX-512 F/BW/VL */
    UMI_CPU_NEON = 3,    /* aarch64 Advanced SIMD */
} umi_cpu_level;

typedef struct umi_cpu_features {
    bool avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16;
    bool neon, dotprod;
} umi_cpu_features;

/* Thread-safe; the result never changes during a run. */
const umi_cpu_features *umi_cpu_features_get(void);
/* The best level this CPU supports, capped by $UMI_CPU. */
umi_cpu_level umi_cpu_level_get(void);
const char *umi_cpu_level_name(umi_cpu_level level);

#endif
