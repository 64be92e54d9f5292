/* The rate probes (rate.c). The decode-rate probe with the layout chosen: the public
 * umi_measure_decode_rate times weights in the layout the loader gives
 * their type; the planner also needs the file's layout, which expert
 * stacks and a Q6_K output matrix keep (model/repack.c). */
#ifndef UMI_INFER_RATE_H
#define UMI_INFER_RATE_H

#include <stdbool.h>
#include <stddef.h>

double umi_measure_decode_rate_as(int n_threads, int type, bool file_layout, size_t bytes);

/* The prompt-processing rate of the same products with a chunk of tokens
 * (GFLOP/s, two per multiply-add) through 4 matrices of mat_bytes each (0:
 * the default, a few MB): what the tiles of a type reach on this machine,
 * which umi plan divides each type's prompt work by. -1 when the type has
 * no product. */
double umi_measure_prompt_rate_as(int n_threads, int type, bool file_layout, size_t mat_bytes);

/* Decode attention over an F16 cache: (head, cached position) pairs per
 * second on one thread, for heads of hd_k / hd_v dims sharing KV heads in
 * groups of `group`, through the engine's decode path. -1 when the engine
 * takes another path for those heads (wider than UMI_ATT_HD_MAX). */
double umi_measure_attention_rate(int hd_k, int hd_v, int group);

#endif
