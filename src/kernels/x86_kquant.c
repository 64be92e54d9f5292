/* x86 SIMD twins and tiles of the kquant ordered dots (kquant.c): each gives
 * exactly the bits of its scalar twin (tests/unit/test_kernels_kquant.c). */
#include "kernels/kernels.h"

umi_dot_fn umi_kernels_simd_twin_kquant(umi_dot_fn scalar, int cpu_level) {
    (void)scalar, (void)cpu_level;
    return NULL;
}

umi_tile_fn umi_kernels_tile_for_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}
