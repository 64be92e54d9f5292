/* qwen2: Qwen 1.5 / 2 / 2.5. The llama block plus q/k/v biases, with
 * rotary embeddings applied to the two halves of each head (NeoX style). */
#include "model/model.h"

static umi_status qwen2_load(umi_model *m, umi_error *err) {
    umi_status st = umi_model_bind_llama_like(m, err);
    if (st) return st;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const umi_layer *L = &m->layers[il];
        if (!L->bq || !L->bk || !L->bv)
            return umi_err(err, UMI_ERR_FORMAT, "qwen2: layer %u lacks attn_q/k/v biases", il);
    }
    return UMI_OK;
}

const umi_arch umi_arch_qwen2 = {.name = "qwen2", .rope_type = UMI_ROPE_NEOX, .load = qwen2_load};
