/* Q8_0's prompt-processing tile for AVX-512 VNNI (x86_q8_0_tile.c): 64
 * weight rows x 8 tokens in the "lanes8" order of umi_dot_q8_0_lanes8
 * (legacy.c), with the umi_tile_fn contract of kernels.h. Call only where
 * umi_cpu_level_get() is UMI_CPU_AVX512 and the CPU has AVX-512 VNNI; the
 * legacy family's tile lookup (x86_legacy.c) hands it out. */
#ifndef UMI_KERNELS_Q8_0_TILE_H
#define UMI_KERNELS_Q8_0_TILE_H

#include <stddef.h>

enum { UMI_Q8_0_TILE_M = 64, UMI_Q8_0_TILE_N = 8 };

void umi_tile_q8_0_vnni(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                        size_t ys);

#endif
