/* qwen3 and qwen3moe: Qwen 3 dense and mixture-of-experts decoders.
 *
 * The llama block without biases, with an RMSNorm over each head of q and k
 * (attn_q_norm / attn_k_norm, applied before the rotation), NeoX-style
 * rotary embeddings, and a head width of its own (attention.key_length,
 * not n_embd / n_head). qwen3moe replaces every FFN by experts with a
 * softmax router whose top-k probabilities are renormalized to sum 1. */
#include "model/model.h"

static umi_status check_qk_norms(const umi_model *m, umi_error *err) {
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const umi_layer *L = &m->layers[il];
        if (!L->attn_q_norm || !L->attn_k_norm)
            return umi_err(err, UMI_ERR_FORMAT, "%s: layer %u lacks attn_q_norm/attn_k_norm",
                           m->arch_name, il);
    }
    return UMI_OK;
}

static umi_status qwen3_load(umi_model *m, umi_error *err) {
    if (m->hp.n_expert != 0)
        return umi_err(err, UMI_ERR_FORMAT, "qwen3: expert_count is set; experts need qwen3moe");
    umi_status st = umi_model_bind_llama_like(m, err);
    return st ? st : check_qk_norms(m, err);
}

static umi_status qwen3moe_load(umi_model *m, umi_error *err) {
    if (m->hp.n_expert == 0)
        return umi_err(err, UMI_ERR_FORMAT, "qwen3moe: expert_count is missing");
    m->hp.gating = UMI_GATING_SOFTMAX;
    m->hp.expert_weights_norm = true;
    umi_status st = umi_model_bind_llama_like(m, err);
    return st ? st : check_qk_norms(m, err);
}

const umi_arch umi_arch_qwen3 = {.name = "qwen3", .rope_type = UMI_ROPE_NEOX, .load = qwen3_load};
const umi_arch umi_arch_qwen3moe = {.name = "qwen3moe", .rope_type = UMI_ROPE_NEOX,
                                    .load = qwen3moe_load};
