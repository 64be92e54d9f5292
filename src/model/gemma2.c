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
 *  - NeoX rotary embeddings. */
#include <math.h>

#include "model/model.h"

static umi_status gemma2_load(umi_model *m, umi_error *err) {
    umi_hparams *hp = &m->hp;
    uint32_t n_swa = 4096;
    umi_status st;
    if ((st = umi_model_get_u32(m, "attention.sliding_window", false, &n_swa, err)) ||
        (st = umi_model_get_f32(m, "attn_logit_softcapping", false, &hp->attn_softcap, err)) ||
        (st = umi_model_get_f32(m, "final_logit_softcapping", false, &hp->final_softcap, err)))
        return st;
    if (hp->n_expert != 0) return umi_err(err, UMI_ERR_FORMAT, "gemma2: experts are not expected");
    hp->embd_scale = sqrtf((float)hp->n_embd);
    /* Gemma 2 27B scales by n_embd / n_head rather than the head width; it
     * is recognized by its 46 layers, as the reference does. */
    hp->q_scale = hp->n_layer == 46 ? 1.0f / sqrtf((float)(hp->n_embd / hp->n_head))
                                    : 1.0f / sqrtf((float)hp->head_dim_k);
    hp->ffn_act = UMI_FFN_GELU;
    if ((st = umi_model_bind_llama_like(m, err))) return st;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        umi_layer *L = &m->layers[il];
        if (!L->attn_post_norm || !L->ffn_post_norm || !L->ffn_gate)
            return umi_err(err, UMI_ERR_FORMAT,
                           "gemma2: layer %u lacks post_attention_norm, post_ffw_norm or ffn_gate", il);
        L->n_swa = il % 2 == 0 ? n_swa : 0;
    }
    return UMI_OK;
}

const umi_arch umi_arch_gemma2 = {.name = "gemma2", .rope_type = UMI_ROPE_NEOX, .load = gemma2_load};
