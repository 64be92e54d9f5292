/* gemma3: Gemma 3 (text). The Gemma 2 block (gemma2.c: scaled embeddings,
 * pre and post norms, GeGLU, tied output, q scaled before attention) with
 *  - an RMSNorm over each head of q and k (attn_q_norm / attn_k_norm) before
 *    the rotation;
 *  - no attention soft-capping; final soft-capping only when the file sets
 *    final_logit_softcapping;
 *  - sliding-window layers when attention.sliding_window is set: of every
 *    attention.sliding_window_pattern (default 6) layers all but the last
 *    slide, so layers 5, 11, ... attend globally;
 *  - sliding layers rotate with rope.freq_base_swa (default 10000) and no
 *    linear scaling; global layers with rope.freq_base and the file's scaling.
 * Source: the reference engine's gemma3 loader and graph (llama.cpp src/models). */
#include "model/model.h"

static umi_status gemma3_hparams(umi_model *m, umi_error *err) {
    umi_hparams *hp = &m->hp;
    umi_status st;
    if ((st = umi_model_get_u32(m, "attention.sliding_window", false, &hp->n_swa, err)) ||
        (st = umi_model_get_f32(m, "final_logit_softcapping", false, &hp->final_softcap, err)))
        return st;
    if (hp->n_swa == 0) return UMI_OK;
    hp->swa_period = 6;
    hp->rope_freq_base_swa = 10000.0f;
    hp->rope_freq_scale_swa = 1.0f;
    /* A per-layer array form of the pattern is ignored, as the reference ignores it. */
    const umi_gguf_kv *pat = umi_gguf_find(m->gguf, "gemma3.attention.sliding_window_pattern");
    if ((pat && pat->type != UMI_GGUF_ARRAY &&
         (st = umi_model_get_u32(m, "attention.sliding_window_pattern", false, &hp->swa_period, err))) ||
        (st = umi_model_get_f32(m, "rope.freq_base_swa", false, &hp->rope_freq_base_swa, err)))
        return st;
    return UMI_OK;
}

static umi_status gemma3_load(umi_model *m, umi_error *err) {
    umi_status st = umi_gemma_load_block(m, err);
    if (st) return st;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const umi_layer *L = &m->layers[il];
        if (!L->attn_q_norm || !L->attn_k_norm)
            return umi_err(err, UMI_ERR_FORMAT, "gemma3: layer %u lacks attn_q_norm/attn_k_norm", il);
    }
    return UMI_OK;
}

const umi_arch umi_arch_gemma3 = {.name = "gemma3", .rope_type = UMI_ROPE_NEOX, .load = gemma3_load,
                                  .load_hparams = gemma3_hparams};
