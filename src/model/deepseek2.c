/* deepseek2: DeepSeek-V2, V2-Lite, Coder-V2, V3, R1 (and their distills in
 * this layout). Tensor names and keys as llama.cpp's converter writes them.
 *
 *  - Multi-head latent attention (src/infer/mla.c): q through a low-rank
 *    bottleneck (attn_q_a, RMSNorm attn_q_a_norm, attn_q_b; V2-Lite has a
 *    plain attn_q); attn_kv_a_mqa gives one latent of kv_lora_rank (RMSNorm
 *    attn_kv_a_norm) plus n_rot rope dims shared by every head. The cache
 *    holds only that latent; attn_k_b / attn_v_b (per head; older files:
 *    one attn_kv_b) are absorbed into the query and the output instead of
 *    expanding K and V.
 *  - Rotary embeddings on adjacent pairs of the rope dims, YaRN as stored
 *    (rope.scaling.*, rope.scaling.yarn_log_multiplier = 0.1 * mscale_all_dim).
 *  - The first leading_dense_block_count layers have a dense SwiGLU; the rest
 *    route to experts (softmax, or V3's sigmoid with the exp_probs_b bias
 *    steering only the choice, optionally within the best expert groups),
 *    weights renormalized and times expert_weights_scale, plus
 *    expert_shared_count always-on shared experts (ffn_*_shexp). */
#include <stdio.h>
#include <string.h>

#include "model/model.h"

/* expert_gating_func values (llama.cpp's LLAMA_EXPERT_GATING_FUNC_TYPE_*). */
enum { GATING_NONE = 0, GATING_SOFTMAX = 1, GATING_SIGMOID = 2 };

static umi_status load_hparams(umi_model *m, umi_error *err) {
    umi_hparams *hp = &m->hp;
    uint32_t gating = GATING_NONE;
    umi_status st;
    if ((st = umi_model_get_f32(m, "expert_weights_scale", false, &hp->expert_weights_scale, err)) ||
        (st = umi_model_get_u32(m, "expert_gating_func", false, &gating, err)))
        return st;
    char key[160];
    snprintf(key, sizeof key, "%s.expert_weights_norm", m->arch_name);
    if ((st = umi_gguf_get_bool(m->gguf, key, false, &hp->expert_weights_norm, err))) return st;
    /* Files without the key predate V3: softmax, as the reference assumes. */
    if (gating == GATING_NONE || gating == GATING_SOFTMAX) hp->gating = UMI_GATING_SOFTMAX;
    else if (gating == GATING_SIGMOID) hp->gating = UMI_GATING_SIGMOID;
    else return umi_err(err, UMI_ERR_UNSUPPORTED, "deepseek2: expert_gating_func %u is not supported", gating);

    float log_mul = 0.0f;
    if ((st = umi_model_get_f32(m, "rope.scaling.yarn_log_multiplier", false, &log_mul, err))) return st;
    /* The converter stores 0.1 * mscale_all_dim; the reference divides it out. */
    hp->yarn_log_mul = log_mul / 0.1f;
    hp->yarn_attn_factor = umi_model_yarn_attn_factor(m);

    if (hp->n_lora_kv == 0)
        return umi_err(err, UMI_ERR_FORMAT, "deepseek2: attention.kv_lora_rank is missing");
    if (hp->n_expert == 0 && hp->n_layer_dense_lead < hp->n_layer)
        return umi_err(err, UMI_ERR_FORMAT, "deepseek2: expert_count is missing");
    return UMI_OK;
}

/* Attention tensors of one layer: attn_k_b / attn_v_b, or in files from
 * older converters (no key_length_mla) one attn_kv_b holding both. */
static umi_status bind_mla(umi_model *m, umi_layer *L, uint32_t il, umi_error *err) {
    const umi_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, H = hp->n_head, QL = hp->n_lora_q, KVL = hp->n_lora_kv;
    const int64_t HK = hp->head_dim_k_mla, HV = hp->head_dim_v_mla, NOPE = HK - hp->n_rot;
    umi_status st;
    if ((st = umi_model_bind(m, &L->wk_b, false, 3, (int64_t[]){NOPE, KVL, H}, err, "blk.%u.attn_k_b.weight", il)) ||
        (st = umi_model_bind(m, &L->wv_b, false, 3, (int64_t[]){KVL, HV, H}, err, "blk.%u.attn_v_b.weight", il)))
        return st;
    if (!L->wk_b || !L->wv_b) {
        L->wk_b = L->wv_b = NULL;
        if ((st = umi_model_bind(m, &L->wkv_b, false, 2, (int64_t[]){KVL, H * (NOPE + HV)}, err, "blk.%u.attn_kv_b.weight", il)))
            return st;
        if (!L->wkv_b)
            return umi_err(err, UMI_ERR_FORMAT, "deepseek2: layer %u has neither attn_k_b/attn_v_b nor attn_kv_b", il);
    }
    if ((st = umi_model_bind(m, &L->wq_a, false, 2, (int64_t[]){E, QL}, err, "blk.%u.attn_q_a.weight", il)) ||
        (st = umi_model_bind(m, &L->attn_q_a_norm, L->wq_a != NULL, 1, (int64_t[]){QL}, err, "blk.%u.attn_q_a_norm.weight", il)) ||
        (st = umi_model_bind(m, &L->wq_b, L->wq_a != NULL, 2, (int64_t[]){QL, H * HK}, err, "blk.%u.attn_q_b.weight", il)) ||
        (st = umi_model_bind(m, &L->wq, L->wq_a == NULL, 2, (int64_t[]){E, H * HK}, err, "blk.%u.attn_q.weight", il)) ||
        (st = umi_model_bind(m, &L->wkv_a_mqa, true, 2, (int64_t[]){E, KVL + hp->n_rot}, err, "blk.%u.attn_kv_a_mqa.weight", il)) ||
        (st = umi_model_bind(m, &L->attn_kv_a_norm, true, 1, (int64_t[]){KVL}, err, "blk.%u.attn_kv_a_norm.weight", il)) ||
        (st = umi_model_bind(m, &L->wo, true, 2, (int64_t[]){H * HV, E}, err, "blk.%u.attn_output.weight", il)))
        return st;
    if (L->wq_a && hp->n_lora_q == 0)
        return umi_err(err, UMI_ERR_FORMAT, "deepseek2: attn_q_a without attention.q_lora_rank");
    return UMI_OK;
}

static umi_status bind_shared_experts(umi_model *m, umi_layer *L, uint32_t il, umi_error *err) {
    const int64_t E = m->hp.n_embd, FS = m->hp.n_ff_shexp;
    umi_status st;
    if (FS == 0) return UMI_OK;
    if ((st = umi_model_bind(m, &L->ffn_gate_shexp, true, 2, (int64_t[]){E, FS}, err, "blk.%u.ffn_gate_shexp.weight", il)) ||
        (st = umi_model_bind(m, &L->ffn_up_shexp, true, 2, (int64_t[]){E, FS}, err, "blk.%u.ffn_up_shexp.weight", il)) ||
        (st = umi_model_bind(m, &L->ffn_down_shexp, true, 2, (int64_t[]){FS, E}, err, "blk.%u.ffn_down_shexp.weight", il)))
        return st;
    return UMI_OK;
}

static umi_status deepseek2_load(umi_model *m, umi_error *err) {
    const umi_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, V = hp->n_vocab;
    umi_status st;
    if ((st = load_hparams(m, err))) return st;
    if ((st = umi_model_bind(m, &m->tok_embd, true, 2, (int64_t[]){E, V}, err, "token_embd.weight")) ||
        (st = umi_model_bind(m, &m->output_norm, true, 1, (int64_t[]){E}, err, "output_norm.weight")) ||
        (st = umi_model_bind(m, &m->output, false, 2, (int64_t[]){E, V}, err, "output.weight")))
        return st;
    if (!m->output) m->output = m->tok_embd; /* tied embeddings */
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        umi_layer *L = &m->layers[il];
        const bool experts = il >= hp->n_layer_dense_lead;
        if ((st = umi_model_bind(m, &L->attn_norm, true, 1, (int64_t[]){E}, err, "blk.%u.attn_norm.weight", il)) ||
            (st = bind_mla(m, L, il, err)) ||
            (st = umi_model_bind(m, &L->ffn_norm, true, 1, (int64_t[]){E}, err, "blk.%u.ffn_norm.weight", il)) ||
            (st = umi_model_bind_ffn(m, L, il, experts, err)) ||
            (experts && (st = bind_shared_experts(m, L, il, err))))
            return st;
        const umi_tensor *norms[] = {L->attn_norm, L->ffn_norm, L->attn_q_a_norm, L->attn_kv_a_norm};
        for (size_t i = 0; i < sizeof norms / sizeof *norms; i++)
            if (norms[i] && norms[i]->type != 0)
                return umi_err(err, UMI_ERR_UNSUPPORTED, "tensor '%s': norms must be f32", norms[i]->name);
    }
    if (m->output_norm->type != 0)
        return umi_err(err, UMI_ERR_UNSUPPORTED, "output_norm.weight must be f32");
    return UMI_OK;
}

const umi_arch umi_arch_deepseek2 = {.name = "deepseek2", .rope_type = UMI_ROPE_NORM, .load = deepseek2_load};
