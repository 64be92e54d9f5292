/* Tensor element types: block layouts, the traits table, scalar reference
 * conversions and dot products.
 *
 * Type ids are GGML's (they are stored in GGUF files). A row of n elements of
 * a block type is n / blck_size blocks of type_size bytes. Weights are dotted
 * against activations converted to the type's vec_dot_type (Q8_0, Q8_1, Q8_K,
 * F16, BF16 or F32), exactly as the reference engine does, so that integer
 * sums and roundings agree with it.
 *
 * Everything here is the portable scalar reference that defines correctness;
 * SIMD kernels live in src/kernels/ and are tested against it.
 */
#ifndef UMI_QUANT_H
#define UMI_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum umi_type {
    UMI_TYPE_F32 = 0,
    UMI_TYPE_F16 = 1,
    UMI_TYPE_Q4_0 = 2,
    UMI_TYPE_Q4_1 = 3,
    UMI_TYPE_Q5_0 = 6,
    UMI_TYPE_Q5_1 = 7,
    UMI_TYPE_Q8_0 = 8,
    UMI_TYPE_Q8_1 = 9,
    UMI_TYPE_Q2_K = 10,
    UMI_TYPE_Q3_K = 11,
    UMI_TYPE_Q4_K = 12,
    UMI_TYPE_Q5_K = 13,
    UMI_TYPE_Q6_K = 14,
    UMI_TYPE_Q8_K = 15,
    UMI_TYPE_IQ4_NL = 20,
    UMI_TYPE_IQ4_XS = 23,
    UMI_TYPE_BF16 = 30,
    UMI_TYPE_COUNT = 40 /* table size; ids without traits have name == NULL */
};

/* to_float: decode n elements (n a multiple of blck_size) starting at a block boundary.
 * from_float: encode n floats (n a multiple of blck_size); NULL for types umi
 *   cannot yet quantize to (the quantizer comes later) — but always set for the
 *   activation types Q8_0, Q8_1, Q8_K, F16, BF16, F32.
 * vec_dot: *s = dot of n elements of x (this type) and y (vec_dot_type);
 *   NULL for Q8_1 and Q8_K, which are activation types only. */
typedef void (*umi_to_float_fn)(const void *x, float *y, int64_t n);
typedef void (*umi_from_float_fn)(const float *x, void *y, int64_t n);
typedef void (*umi_vec_dot_fn)(int n, float *s, const void *x, const void *y);

typedef struct umi_type_traits {
    const char *name;          /* GGML's name: "f32", "q4_0", "q4_K", "iq4_nl", ... */
    int64_t blck_size;         /* elements per block (1 for float types) */
    size_t type_size;          /* bytes per block */
    bool is_quantized;
    umi_to_float_fn to_float;
    umi_from_float_fn from_float;
    umi_vec_dot_fn vec_dot;
    enum umi_type vec_dot_type;
} umi_type_traits;

/* Traits of a type id, or NULL when the id is unknown or unsupported. */
const umi_type_traits *umi_type_traits_get(uint32_t type);

/* Bytes of a row of n elements; 0 if n is not a multiple of the block size.
 * Works for every GGML type id with a known block layout, including types
 * without traits (so any GGUF tensor can be sized); 0 for unknown ids. */
size_t umi_type_row_size(uint32_t type, int64_t n);

/* Name of any GGML type id, including ones umi has no traits for ("iq2_xxs");
 * NULL when the id was never assigned. (umi_type_name in umi.h is the public
 * wrapper, which says "?" instead of NULL.) */
const char *umi_type_ggml_name(uint32_t type);

/* ---------------------------------------------------------------- per-type scalar functions
 *
 * The traits table points at these; SIMD kernels are tested against them.
 * to_float / from_float: n elements, a multiple of the block size.
 * vec_dot: n elements of x (first type) against y (second type), result in *s.
 * The float types sum products in double, the block types sum integers per
 * block (or sub-block) and scale in float, in the reference engine's order. */

void umi_quant_to_float_f32(const void *x, float *y, int64_t n);
void umi_quant_from_float_f32(const float *x, void *y, int64_t n);
void umi_quant_vec_dot_f32(int n, float *s, const void *x, const void *y);
void umi_quant_to_float_f16(const void *x, float *y, int64_t n);
void umi_quant_from_float_f16(const float *x, void *y, int64_t n);
void umi_quant_vec_dot_f16(int n, float *s, const void *x, const void *y);
void umi_quant_to_float_bf16(const void *x, float *y, int64_t n);
void umi_quant_from_float_bf16(const float *x, void *y, int64_t n);
void umi_quant_vec_dot_bf16(int n, float *s, const void *x, const void *y);

void umi_quant_to_float_q4_0(const void *x, float *y, int64_t n);
void umi_quant_to_float_q4_1(const void *x, float *y, int64_t n);
void umi_quant_to_float_q5_0(const void *x, float *y, int64_t n);
void umi_quant_to_float_q5_1(const void *x, float *y, int64_t n);
void umi_quant_to_float_q8_0(const void *x, float *y, int64_t n);
void umi_quant_to_float_q8_1(const void *x, float *y, int64_t n);
/* The reference's simple ("ref") quantizers; Q8_0/Q8_1 are also the
 * activation quantizers (roundf: ties away from zero). */
void umi_quant_from_float_q4_0(const float *x, void *y, int64_t n);
void umi_quant_from_float_q4_1(const float *x, void *y, int64_t n);
void umi_quant_from_float_q5_0(const float *x, void *y, int64_t n);
void umi_quant_from_float_q5_1(const float *x, void *y, int64_t n);
void umi_quant_from_float_q8_0(const float *x, void *y, int64_t n);
void umi_quant_from_float_q8_1(const float *x, void *y, int64_t n);
void umi_quant_vec_dot_q4_0_q8_0(int n, float *s, const void *x, const void *y);
void umi_quant_vec_dot_q4_1_q8_1(int n, float *s, const void *x, const void *y);
void umi_quant_vec_dot_q5_0_q8_0(int n, float *s, const void *x, const void *y);
void umi_quant_vec_dot_q5_1_q8_1(int n, float *s, const void *x, const void *y);
void umi_quant_vec_dot_q8_0_q8_0(int n, float *s, const void *x, const void *y);

void umi_quant_to_float_q2_K(const void *x, float *y, int64_t n);
void umi_quant_to_float_q3_K(const void *x, float *y, int64_t n);
void umi_quant_to_float_q4_K(const void *x, float *y, int64_t n);
void umi_quant_to_float_q5_K(const void *x, float *y, int64_t n);
void umi_quant_to_float_q6_K(const void *x, float *y, int64_t n);
void umi_quant_to_float_q8_K(const void *x, float *y, int64_t n);
/* Activation quantizer for the K-quants (ties to even; d = max / -127 with
 * max the signed value of largest magnitude). */
void umi_quant_from_float_q8_K(const float *x, void *y, int64_t n);
void umi_quant_vec_dot_q2_K_q8_K(int n, float *s, const void *x, const void *y);
void umi_quant_vec_dot_q3_K_q8_K(int n, float *s, const void *x, const void *y);
void umi_quant_vec_dot_q4_K_q8_K(int n, float *s, const void *x, const void *y);
void umi_quant_vec_dot_q5_K_q8_K(int n, float *s, const void *x, const void *y);
void umi_quant_vec_dot_q6_K_q8_K(int n, float *s, const void *x, const void *y);

void umi_quant_to_float_iq4_nl(const void *x, float *y, int64_t n);
void umi_quant_to_float_iq4_xs(const void *x, float *y, int64_t n);
void umi_quant_vec_dot_iq4_nl_q8_0(int n, float *s, const void *x, const void *y);
void umi_quant_vec_dot_iq4_xs_q8_K(int n, float *s, const void *x, const void *y);

#endif
