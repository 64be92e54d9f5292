/* The type traits table and type names.
 *
 * Two tables, both indexed by GGML type id:
 *   - layouts: name, block size and block bytes of every type GGML has
 *     assigned, so a file can be sized and described even when umi cannot
 *     compute with some of its tensors;
 *   - traits: the types umi computes with, with their scalar functions and
 *     the activation type each weight type is dotted against (the reference
 *     engine's pairing).
 */
#include "quant/blocks.h"
#include "quant/quant.h"
#include "umi.h"

/* ---------------------------------------------------------------- layouts */

typedef struct type_layout {
    const char *name;
    int64_t blck_size;
    size_t type_size;
} type_layout;

enum { N_GGML_IDS = 43 }; /* GGML ids 0..42 (4, 5 and 31..33, 36..38 are retired) */

/* Sizes of the types without traits, from GGML's block definitions. */
static const type_layout layouts[N_GGML_IDS] = {
    [UMI_TYPE_F32] = {"f32", 1, 4},
    [UMI_TYPE_F16] = {"f16", 1, 2},
    [UMI_TYPE_Q4_0] = {"q4_0", UMI_QK4_0, sizeof(umi_block_q4_0)},
    [UMI_TYPE_Q4_1] = {"q4_1", UMI_QK4_1, sizeof(umi_block_q4_1)},
    [UMI_TYPE_Q5_0] = {"q5_0", UMI_QK5_0, sizeof(umi_block_q5_0)},
    [UMI_TYPE_Q5_1] = {"q5_1", UMI_QK5_1, sizeof(umi_block_q5_1)},
    [UMI_TYPE_Q8_0] = {"q8_0", UMI_QK8_0, sizeof(umi_block_q8_0)},
    [UMI_TYPE_Q8_1] = {"q8_1", UMI_QK8_1, sizeof(umi_block_q8_1)},
    [UMI_TYPE_Q2_K] = {"q2_K", UMI_QK_K, sizeof(umi_block_q2_K)},
    [UMI_TYPE_Q3_K] = {"q3_K", UMI_QK_K, sizeof(umi_block_q3_K)},
    [UMI_TYPE_Q4_K] = {"q4_K", UMI_QK_K, sizeof(umi_block_q4_K)},
    [UMI_TYPE_Q5_K] = {"q5_K", UMI_QK_K, sizeof(umi_block_q5_K)},
    [UMI_TYPE_Q6_K] = {"q6_K", UMI_QK_K, sizeof(umi_block_q6_K)},
    [UMI_TYPE_Q8_K] = {"q8_K", UMI_QK_K, sizeof(umi_block_q8_K)},
    [16] = {"iq2_xxs", 256, 66},
    [17] = {"iq2_xs", 256, 74},
    [18] = {"iq3_xxs", 256, 98},
    [19] = {"iq1_s", 256, 50},
    [UMI_TYPE_IQ4_NL] = {"iq4_nl", UMI_QK4_NL, sizeof(umi_block_iq4_nl)},
    [21] = {"iq3_s", 256, 110},
    [22] = {"iq2_s", 256, 82},
    [UMI_TYPE_IQ4_XS] = {"iq4_xs", UMI_QK_K, sizeof(umi_block_iq4_xs)},
    [24] = {"i8", 1, 1},
    [25] = {"i16", 1, 2},
    [26] = {"i32", 1, 4},
    [27] = {"i64", 1, 8},
    [28] = {"f64", 1, 8},
    [29] = {"iq1_m", 256, 56},
    [UMI_TYPE_BF16] = {"bf16", 1, 2},
    [34] = {"tq1_0", 256, 54},
    [35] = {"tq2_0", 256, 66},
    [39] = {"mxfp4", 32, 17},
    [40] = {"nvfp4", 64, 36},
    [41] = {"q1_0", 128, 18},
    [42] = {"q2_0", 64, 18},
};

const char *umi_type_ggml_name(uint32_t type) {
    return type < N_GGML_IDS ? layouts[type].name : NULL;
}

const char *umi_type_name(int type) {
    const char *name = type >= 0 ? umi_type_ggml_name((uint32_t)type) : NULL;
    return name ? name : "?";
}

size_t umi_type_row_size(uint32_t type, int64_t n) {
    if (type >= N_GGML_IDS || !layouts[type].name || n < 0)
        return 0;
    const type_layout *t = &layouts[type];
    if (n % t->blck_size != 0)
        return 0;
    return (size_t)(n / t->blck_size) * t->type_size;
}

/* ---------------------------------------------------------------- traits */

static const umi_type_traits traits[UMI_TYPE_COUNT] = {
    [UMI_TYPE_F32] = {
        .name = "f32", .blck_size = 1, .type_size = 4, .is_quantized = false,
        .to_float = umi_quant_to_float_f32,
        .from_float = umi_quant_from_float_f32,
        .vec_dot = umi_quant_vec_dot_f32,
        .vec_dot_type = UMI_TYPE_F32,
    },
    [UMI_TYPE_F16] = {
        .name = "f16", .blck_size = 1, .type_size = 2, .is_quantized = false,
        .to_float = umi_quant_to_float_f16,
        .from_float = umi_quant_from_float_f16,
        .vec_dot = umi_quant_vec_dot_f16,
        .vec_dot_type = UMI_TYPE_F16,
    },
    [UMI_TYPE_BF16] = {
        .name = "bf16", .blck_size = 1, .type_size = 2, .is_quantized = false,
        .to_float = umi_quant_to_float_bf16,
        .from_float = umi_quant_from_float_bf16,
        .vec_dot = umi_quant_vec_dot_bf16,
        .vec_dot_type = UMI_TYPE_BF16,
    },
    [UMI_TYPE_Q4_0] = {
        .name = "q4_0", .blck_size = UMI_QK4_0, .type_size = sizeof(umi_block_q4_0),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q4_0,
        .from_float = umi_quant_from_float_q4_0,
        .vec_dot = umi_quant_vec_dot_q4_0_q8_0,
        .vec_dot_type = UMI_TYPE_Q8_0,
    },
    [UMI_TYPE_Q4_1] = {
        .name = "q4_1", .blck_size = UMI_QK4_1, .type_size = sizeof(umi_block_q4_1),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q4_1,
        .from_float = umi_quant_from_float_q4_1,
        .vec_dot = umi_quant_vec_dot_q4_1_q8_1,
        .vec_dot_type = UMI_TYPE_Q8_1,
    },
    [UMI_TYPE_Q5_0] = {
        .name = "q5_0", .blck_size = UMI_QK5_0, .type_size = sizeof(umi_block_q5_0),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q5_0,
        .from_float = umi_quant_from_float_q5_0,
        .vec_dot = umi_quant_vec_dot_q5_0_q8_0,
        .vec_dot_type = UMI_TYPE_Q8_0,
    },
    [UMI_TYPE_Q5_1] = {
        .name = "q5_1", .blck_size = UMI_QK5_1, .type_size = sizeof(umi_block_q5_1),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q5_1,
        .from_float = umi_quant_from_float_q5_1,
        .vec_dot = umi_quant_vec_dot_q5_1_q8_1,
        .vec_dot_type = UMI_TYPE_Q8_1,
    },
    [UMI_TYPE_Q8_0] = {
        .name = "q8_0", .blck_size = UMI_QK8_0, .type_size = sizeof(umi_block_q8_0),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q8_0,
        .from_float = umi_quant_from_float_q8_0,
        .vec_dot = umi_quant_vec_dot_q8_0_q8_0,
        .vec_dot_type = UMI_TYPE_Q8_0,
    },
    /* Q8_1 and Q8_K are activation types only: no dot product of their own
     * (as in the reference). */
    [UMI_TYPE_Q8_1] = {
        .name = "q8_1", .blck_size = UMI_QK8_1, .type_size = sizeof(umi_block_q8_1),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q8_1,
        .from_float = umi_quant_from_float_q8_1,
        .vec_dot = NULL,
        .vec_dot_type = UMI_TYPE_Q8_1,
    },
    [UMI_TYPE_Q2_K] = {
        .name = "q2_K", .blck_size = UMI_QK_K, .type_size = sizeof(umi_block_q2_K),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q2_K,
        .from_float = NULL,
        .vec_dot = umi_quant_vec_dot_q2_K_q8_K,
        .vec_dot_type = UMI_TYPE_Q8_K,
    },
    [UMI_TYPE_Q3_K] = {
        .name = "q3_K", .blck_size = UMI_QK_K, .type_size = sizeof(umi_block_q3_K),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q3_K,
        .from_float = NULL,
        .vec_dot = umi_quant_vec_dot_q3_K_q8_K,
        .vec_dot_type = UMI_TYPE_Q8_K,
    },
    [UMI_TYPE_Q4_K] = {
        .name = "q4_K", .blck_size = UMI_QK_K, .type_size = sizeof(umi_block_q4_K),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q4_K,
        .from_float = NULL,
        .vec_dot = umi_quant_vec_dot_q4_K_q8_K,
        .vec_dot_type = UMI_TYPE_Q8_K,
    },
    [UMI_TYPE_Q5_K] = {
        .name = "q5_K", .blck_size = UMI_QK_K, .type_size = sizeof(umi_block_q5_K),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q5_K,
        .from_float = NULL,
        .vec_dot = umi_quant_vec_dot_q5_K_q8_K,
        .vec_dot_type = UMI_TYPE_Q8_K,
    },
    [UMI_TYPE_Q6_K] = {
        .name = "q6_K", .blck_size = UMI_QK_K, .type_size = sizeof(umi_block_q6_K),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q6_K,
        .from_float = NULL,
        .vec_dot = umi_quant_vec_dot_q6_K_q8_K,
        .vec_dot_type = UMI_TYPE_Q8_K,
    },
    [UMI_TYPE_Q8_K] = {
        .name = "q8_K", .blck_size = UMI_QK_K, .type_size = sizeof(umi_block_q8_K),
        .is_quantized = true,
        .to_float = umi_quant_to_float_q8_K,
        .from_float = umi_quant_from_float_q8_K,
        .vec_dot = NULL,
        .vec_dot_type = UMI_TYPE_Q8_K,
    },
    [UMI_TYPE_IQ4_NL] = {
        .name = "iq4_nl", .blck_size = UMI_QK4_NL, .type_size = sizeof(umi_block_iq4_nl),
        .is_quantized = true,
        .to_float = umi_quant_to_float_iq4_nl,
        .from_float = NULL,
        .vec_dot = umi_quant_vec_dot_iq4_nl_q8_0,
        .vec_dot_type = UMI_TYPE_Q8_0,
    },
    [UMI_TYPE_IQ4_XS] = {
        .name = "iq4_xs", .blck_size = UMI_QK_K, .type_size = sizeof(umi_block_iq4_xs),
        .is_quantized = true,
        .to_float = umi_quant_to_float_iq4_xs,
        .from_float = NULL,
        .vec_dot = umi_quant_vec_dot_iq4_xs_q8_K,
        .vec_dot_type = UMI_TYPE_Q8_K,
    },
};

const umi_type_traits *umi_type_traits_get(uint32_t type) {
    if (type >= UMI_TYPE_COUNT || !traits[type].name)
        return NULL;
    return &traits[type];
}
