/* phi3: Phi-3 / Phi-3.5 / Phi-4-mini. The llama block with one fused
 * q|k|v projection (attn_qkv), one fused gate|up projection (ffn_up with
 * 2 * n_ff rows, gate first), partial NeoX rotary embeddings
 * (rope.dimension_count < head width), and q scaled by 1/sqrt(head_dim)
 * before attention. A sliding window in the file is ignored, as the
 * reference ignores it for this architecture. The 128k-context variants'
 * LongRoPE tables (rope_factors_long/short) are bound with the llama-like
 * names and chosen per context (umi_model_rope_factors), their attention
 * factor read with the other rope scaling keys. */
#include <math.h>

#include "model/model.h"

static umi_status phi3_load(umi_model *m, umi_error *err) {
    umi_hparams *hp = &m->hp;
    if (hp->n_expert != 0) return umi_err(err, UMI_ERR_UNSUPPORTED, "phi3: experts (PhiMoE) are not supported yet");
    hp->q_scale = 1.0f / sqrtf((float)hp->head_dim_k);
    umi_status st = umi_model_bind_llama_like(m, err);
    if (st) return st;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const umi_layer *L = &m->layers[il];
        if (!L->wqkv || L->ffn_gate)
            return umi_err(err, UMI_ERR_FORMAT, "phi3: layer %u: expected attn_qkv and a fused ffn_up", il);
    }
    return UMI_OK;
}

const umi_arch umi_arch_phi3 = {.name = "phi3", .rope_type = UMI_ROPE_NEOX, .load = phi3_load};
