/* The decode-rate probe (rate.c) with the layout chosen: the public
 * umi_measure_decode_rate times weights in the layout the loader gives
 * their type; the planner also needs the file's layout, which expert
 * stacks and a Q6_K output matrix keep (model/repack.c). */
#ifndef UMI_INFER_RATE_H
#define UMI_INFER_RATE_H

#include <stdbool.h>
#include <stddef.h>

double umi_measure_decode_rate_as(int n_threads, int type, bool file_layout, size_t bytes);

#endif
