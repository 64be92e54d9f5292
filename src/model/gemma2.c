/* gemma2: Gemma 2. The llama block with
 *  - token embeddings scaled by sqrt(n_embd), output tied to token_embd;
 *  - RMSNorm after attention and after the FFN as well as before them
 *    (post_attention_norm, post_ffw_norm), the residual added after both;
 *  - GeGLU (tanh-approximated GELU) instead of SwiGLU;
 *  - q scaled by 1/sqrt(head_dim) before attention, scores soft-capped
 *    (cap * tanh(s / cap), attn_logit_softcapping) and final logits too
 *    (final_logit_softcapping);
 *  - sliding-window attention (attention.sliding_window, 4096 by default) on
 *    the even layers, full attention on the odd ones;
 *  - NeoX rotary embeddings.
 * umi_gemma_load_block is the part gemma3 shares. */
#include <math.h>

#include "model/model.h"

static umi_status gemma2_hparams(umi_model *m, umi_error *err) {
    umi_hparams *hp = &m->hp;
    umi_status st;
    hp->n_swa = 4096;
    hp->swa_period = 2;
    if ((st = umi_model_get_u32(m, "attention.sliding_window", false, &hp->n_swa, err)) ||
        (st = umi_model_get_f32(m, "attn_logit_softcapping", false, &hp->attn_softcap, err)) ||
        (st = umi_model_get_f32(m, "final_logit_softcapping", false, &hp->final_softcap, err)))
        return st;
    return UMI_OK;
}

umi_status umi_gemma_load_block(umi_model *m, umi_error *err) {
    umi_hparams *hp = &m->hp;
    if (hp->n_expert != 0) return umi_err(err, UMI_ERR_FORMAT, "%s: experts are not expected", m->arch_name);
    hp->embd_scale = sqrtf((float)hp->n_embd);
    /* The 27B models scale by n_embd / n_head rather than the head width;
     * they are recognized by their layer count, as the reference does
     * (Gemma 2: 46, Gemma 3: 62). */
    const uint32_t n_layer_27b = m->arch == &umi_arch_gemma2 ? 46 : 62;
    hp->q_scale = hp->n_layer == n_layer_27b ? 1.0f / sqrtf((float)(hp->n_embd / hp->n_head))
                                             : 1.0f / sqrtf((float)hp->head_dim_k);
    hp->ffn_act = UMI_FFN_GELU;
    umi_status st = umi_model_bind_llama_like(m, err);
    if (st) return st;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const umi_layer *L = &m->layers[il];
        if (!L->attn_post_norm || !L->ffn_post_norm || !L->ffn_gate)
            return umi_err(err, UMI_ERR_FORMAT,
                           "%s: layer %u lacks post_attention_norm, post_ffw_norm or ffn_gate", m->arch_name, il);
    }
    return UMI_OK;
}

const umi_arch umi_arch_gemma2 = {.name = "gemma2", .rope_type = UMI_ROPE_NEOX, .load = umi_gemma_load_block,
                                  .load_hparams = gemma2_hparams};
