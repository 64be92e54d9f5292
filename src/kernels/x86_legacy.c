/* x86 SIMD twins and tiles of the legacy ordered dots (legacy.c): each gives
 * exactly the bits of its scalar twin (tests/unit/test_kernels_legacy.c). */
#include "kernels/kernels.h"

umi_dot_fn umi_kernels_simd_twin_legacy(umi_dot_fn scalar, int cpu_level) {
    (void)scalar, (void)cpu_level;
    return NULL;
}

umi_tile_fn umi_kernels_tile_for_legacy(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}
