/* qwen2moe: Qwen 1.5-MoE / Qwen 2-MoE. The qwen2 block (q/k/v biases, NeoX
 * rotary embeddings, untied output) whose FFN is
 *  - routed experts: softmax router, the top-k probabilities used as they
 *    are (not renormalized; the reference passes norm_w = false), plus
 *  - one shared expert every token runs (ffn_{gate,up,down}_shexp, width
 *    expert_shared_feed_forward_length, feed_forward_length by default),
 *    its output times sigmoid(ffn_gate_inp_shexp · x).
 * Source: the reference engine's qwen2moe graph (llama.cpp src/models). */
#include "model/model.h"

static umi_status qwen2moe_load(umi_model *m, umi_error *err) {
    umi_hparams *hp = &m->hp;
    if (hp->n_expert == 0) return umi_err(err, UMI_ERR_FORMAT, "qwen2moe: expert_count is missing");
    if (hp->n_ff_shexp == 0) hp->n_ff_shexp = hp->n_ff;
    hp->gating = UMI_GATING_SOFTMAX;
    hp->expert_weights_norm = false;
    umi_status st = umi_model_bind_llama_like(m, err);
    if (st) return st;
    if (m->output == m->tok_embd) return umi_err(err, UMI_ERR_FORMAT, "qwen2moe: output.weight is missing");
    const int64_t E = hp->n_embd, S = hp->n_ff_shexp;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        umi_layer *L = &m->layers[il];
        if (!L->bq || !L->bk || !L->bv)
            return umi_err(err, UMI_ERR_FORMAT, "qwen2moe: layer %u lacks attn_q/k/v biases", il);
        /* Converters store the shared gate as [n_embd] or [n_embd, 1]; both are one row. */
        if ((st = umi_model_bind(m, &L->ffn_gate_inp_shexp, true, 2, (int64_t[]){E, 1}, err, "blk.%u.ffn_gate_inp_shexp.weight", il)) ||
            (st = umi_model_bind(m, &L->ffn_gate_shexp, true, 2, (int64_t[]){E, S}, err, "blk.%u.ffn_gate_shexp.weight", il)) ||
            (st = umi_model_bind(m, &L->ffn_up_shexp, true, 2, (int64_t[]){E, S}, err, "blk.%u.ffn_up_shexp.weight", il)) ||
            (st = umi_model_bind(m, &L->ffn_down_shexp, true, 2, (int64_t[]){S, E}, err, "blk.%u.ffn_down_shexp.weight", il)))
            return st;
    }
    return UMI_OK;
}

const umi_arch umi_arch_qwen2moe = {.name = "qwen2moe", .rope_type = UMI_ROPE_NEOX, .load = qwen2moe_load};
