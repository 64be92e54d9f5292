/* Model loading: open the GGUF, pick the architecture, read hyperparameters,
 * bind tensors by name with shape checks, load the vocabulary. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "model/model.h"
#include "quant/quant.h"

static const umi_arch *const ARCHES[] = {&umi_arch_llama,    &umi_arch_qwen2,    &umi_arch_qwen3,
                                         &umi_arch_qwen3moe, &umi_arch_qwen2moe, &umi_arch_gemma2,
                                         &umi_arch_gemma3,   &umi_arch_phi3,     &umi_arch_deepseek2};

static const umi_arch *find_arch(const char *name) {
    for (size_t i = 0; i < sizeof ARCHES / sizeof *ARCHES; i++)
        if (strcmp(ARCHES[i]->name, name) == 0) return ARCHES[i];
    return NULL;
}

umi_model_params umi_model_default_params(void) {
    return (umi_model_params){.use_mmap = true, .vocab_only = false, .info_only = false};
}

/* ---------------------------------------------------------------- hparams */

static void arch_key(const umi_model *m, const char *suffix, char *buf, size_t n) {
    snprintf(buf, n, "%s.%s", m->arch_name, suffix);
}

umi_status umi_model_get_u32(const umi_model *m, const char *suffix, bool required, uint32_t *out,
                             umi_error *err) {
    char key[160];
    arch_key(m, suffix, key, sizeof key);
    return umi_gguf_get_u32(m->gguf, key, required, out, err);
}

umi_status umi_model_get_f32(const umi_model *m, const char *suffix, bool required, float *out,
                             umi_error *err) {
    char key[160];
    arch_key(m, suffix, key, sizeof key);
    return umi_gguf_get_f32(m->gguf, key, required, out, err);
}

umi_status umi_model_load_common_hparams(umi_model *m, umi_error *err) {
    umi_hparams *hp = &m->hp;
    umi_status st;
    hp->n_ctx_train = 2048;
    hp->norm_eps = 1e-5f;
    hp->rope_freq_base = 10000.0f;
    hp->rope_freq_scale = 1.0f;
    if ((st = umi_model_get_u32(m, "context_length", false, &hp->n_ctx_train, err)) ||
        (st = umi_model_get_u32(m, "embedding_length", true, &hp->n_embd, err)) ||
        (st = umi_model_get_u32(m, "block_count", true, &hp->n_layer, err)) ||
        (st = umi_model_get_u32(m, "feed_forward_length", true, &hp->n_ff, err)) ||
        (st = umi_model_get_u32(m, "attention.head_count", true, &hp->n_head, err)))
        return st;
    hp->n_head_kv = hp->n_head;
    if ((st = umi_model_get_u32(m, "attention.head_count_kv", false, &hp->n_head_kv, err)) ||
        (st = umi_model_get_f32(m, "attention.layer_norm_rms_epsilon", false, &hp->norm_eps, err)) ||
        (st = umi_model_get_f32(m, "rope.freq_base", false, &hp->rope_freq_base, err)))
        return st;
    if (hp->n_embd == 0 || hp->n_layer == 0 || hp->n_head == 0 || hp->n_head_kv == 0 ||
        hp->n_head % hp->n_head_kv != 0 || hp->n_layer > 4096)
        return umi_err(err, UMI_ERR_FORMAT,
                       "%s: inconsistent hyperparameters (n_embd %u, n_layer %u, n_head %u, "
                       "n_head_kv %u)",
                       m->arch_name, hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv);
    hp->head_dim_k = hp->n_embd / hp->n_head;
    if ((st = umi_model_get_u32(m, "attention.key_length", false, &hp->head_dim_k, err)))
        return st;
    hp->head_dim_v = hp->head_dim_k;
    if ((st = umi_model_get_u32(m, "attention.value_length", false, &hp->head_dim_v, err)))
        return st;
    hp->n_rot = hp->head_dim_k;
    if ((st = umi_model_get_u32(m, "rope.dimension_count", false, &hp->n_rot, err))) return st;
    if (hp->head_dim_k == 0 || hp->head_dim_v == 0 || hp->n_rot > hp->head_dim_k || hp->n_rot > 1024 ||
        hp->n_rot % 2 != 0)
        return umi_err(err, UMI_ERR_FORMAT, "%s: bad head dims (k %u, v %u, rope %u)",
                       m->arch_name, hp->head_dim_k, hp->head_dim_v, hp->n_rot);

    /* Multi-head latent attention: such files give key/value_length as the
     * latent view (kv_lora + rope, kv_lora) and the per-head widths as *_mla. */
    if ((st = umi_model_get_u32(m, "attention.q_lora_rank", false, &hp->n_lora_q, err)) ||
        (st = umi_model_get_u32(m, "attention.kv_lora_rank", false, &hp->n_lora_kv, err)))
        return st;
    hp->head_dim_k_mla = hp->head_dim_k;
    hp->head_dim_v_mla = hp->head_dim_v;
    if ((st = umi_model_get_u32(m, "attention.key_length_mla", false, &hp->head_dim_k_mla, err)) ||
        (st = umi_model_get_u32(m, "attention.value_length_mla", false, &hp->head_dim_v_mla, err)))
        return st;
    if (hp->n_lora_kv && (hp->n_lora_kv > 65536 || hp->n_lora_q > 65536 || hp->head_dim_k_mla <= hp->n_rot ||
                          hp->head_dim_k_mla > 4096 || hp->head_dim_v_mla == 0 || hp->head_dim_v_mla > 4096))
        return umi_err(err, UMI_ERR_FORMAT, "%s: bad latent attention dims (kv_lora %u, q_lora %u, k %u, v %u, rope %u)",
                       m->arch_name, hp->n_lora_kv, hp->n_lora_q, hp->head_dim_k_mla, hp->head_dim_v_mla,
                       hp->n_rot);

    /* Linear rope scaling stretches positions: theta uses p * freq_scale.
     * YaRN (Peng et al. 2023) blends stretched and original frequencies. */
    umi_gguf_str stype = {0};
    char key[160];
    arch_key(m, "rope.scaling.type", key, sizeof key);
    if ((st = umi_gguf_get_str(m->gguf, key, false, &stype, err))) return st;
    float factor = 0.0f;
    if ((st = umi_model_get_f32(m, "rope.scaling.factor", false, &factor, err))) return st;
    hp->n_ctx_orig_yarn = hp->n_ctx_train;
    hp->yarn_beta_fast = 32.0f;
    hp->yarn_beta_slow = 1.0f;
    if ((st = umi_model_get_u32(m, "rope.scaling.original_context_length", false, &hp->n_ctx_orig_yarn, err)))
        return st;
    if (stype.len > 0 && !(stype.len == 4 && memcmp(stype.ptr, "none", 4) == 0)) {
        const bool yarn = stype.len == 4 && memcmp(stype.ptr, "yarn", 4) == 0;
        if (yarn || (stype.len == 6 && memcmp(stype.ptr, "linear", 6) == 0)) {
            if (factor > 0.0f) hp->rope_freq_scale = 1.0f / factor;
            if (yarn) hp->yarn_ext_factor = 1.0f;
        } else {
            return umi_err(err, UMI_ERR_UNSUPPORTED, "%s: rope scaling '%.*s' is not supported yet",
                           m->arch_name, (int)stype.len, stype.ptr);
        }
    }
    hp->yarn_attn_factor = umi_model_yarn_attn_factor(m);
    return UMI_OK;
}

/* YaRN's magnitude scale (1 + 0.1 ln s, scaled by m) for a stretch s. */
static float yarn_get_mscale(float s, float m) { return s <= 1.0f ? 1.0f : 0.1f * m * logf(s) + 1.0f; }

/* As the reference's context derives it: the ratio of the two mscales when
 * yarn_log_mul (mscale_all_dim) is set — deepseek2 takes mscale equal to it
 * — then the factor the rope itself applies divided out again. */
float umi_model_yarn_attn_factor(const umi_model *m) {
    const umi_hparams *hp = &m->hp;
    float rope_attn = 1.0f, attn = 1.0f;
    umi_error ignored;
    if (umi_model_get_f32(m, "rope.scaling.attn_factor", false, &rope_attn, &ignored)) rope_attn = 1.0f;
    if (hp->yarn_ext_factor != 0.0f) {
        const float factor = 1.0f / hp->rope_freq_scale;
        if (hp->yarn_log_mul != 0.0f) {
            const bool ds2 = strcmp(m->arch_name, "deepseek2") == 0 && hp->yarn_log_mul != 1.0f;
            attn = yarn_get_mscale(factor, ds2 ? hp->yarn_log_mul : 1.0f) /
                   yarn_get_mscale(factor, hp->yarn_log_mul);
        } else {
            attn = yarn_get_mscale(factor, 1.0f);
        }
        attn *= 1.0f / (1.0f + 0.1f * logf(factor));
    }
    return attn * rope_attn;
}

umi_status umi_model_load_moe_hparams(umi_model *m, umi_error *err) {
    umi_hparams *hp = &m->hp;
    umi_status st;
    hp->n_ff_exp = hp->n_ff;
    if ((st = umi_model_get_u32(m, "expert_count", false, &hp->n_expert, err)) ||
        (st = umi_model_get_u32(m, "expert_used_count", false, &hp->n_expert_used, err)) ||
        (st = umi_model_get_u32(m, "expert_feed_forward_length", false, &hp->n_ff_exp, err)) ||
        (st = umi_model_get_u32(m, "expert_shared_feed_forward_length", false, &hp->n_ff_shexp, err)))
        return st;
    if (hp->n_expert == 0) return UMI_OK;
    /* 256 bounds the per-token routing scratch; real models use at most 256. */
    if (hp->n_expert > 256 || hp->n_expert_used == 0 || hp->n_expert_used > hp->n_expert ||
        hp->n_ff_exp == 0)
        return umi_err(err, UMI_ERR_FORMAT, "%s: bad expert counts (%u experts, %u used, width %u)",
                       m->arch_name, hp->n_expert, hp->n_expert_used, hp->n_ff_exp);
    /* DeepSeek: leading dense layers, shared experts, group-limited routing. */
    if ((st = umi_model_get_u32(m, "leading_dense_block_count", false, &hp->n_layer_dense_lead, err)) ||
        (st = umi_model_get_u32(m, "expert_shared_count", false, &hp->n_expert_shared, err)) ||
        (st = umi_model_get_u32(m, "expert_group_count", false, &hp->n_expert_groups, err)) ||
        (st = umi_model_get_u32(m, "expert_group_used_count", false, &hp->n_group_used, err)))
        return st;
    if (hp->n_expert_shared > 64 || hp->n_layer_dense_lead > hp->n_layer ||
        (hp->n_expert_groups > 1 && (hp->n_expert % hp->n_expert_groups != 0 || hp->n_group_used == 0 ||
                                     hp->n_group_used >= hp->n_expert_groups)))
        return umi_err(err, UMI_ERR_FORMAT, "%s: bad expert layout (%u shared, %u dense layers, %u groups, %u used)",
                       m->arch_name, hp->n_expert_shared, hp->n_layer_dense_lead, hp->n_expert_groups,
                       hp->n_group_used);
    /* DeepSeek states a count of expert-wide shared experts; Qwen2-MoE the
     * width of its one (expert_shared_feed_forward_length, read above). */
    if (hp->n_expert_shared) hp->n_ff_shexp = hp->n_ff_exp * hp->n_expert_shared;
    return UMI_OK;
}

uint32_t umi_hparams_layer_swa(const umi_hparams *hp, uint32_t il) {
    /* the reference's pattern rule: period 0 makes every layer slide */
    if (hp->n_swa == 0) return 0;
    return hp->swa_period == 0 || il % hp->swa_period < hp->swa_period - 1 ? hp->n_swa : 0;
}

/* ---------------------------------------------------------------- tensors */

umi_status umi_model_bind(umi_model *m, const umi_tensor **out, bool required, int n_dims,
                          const int64_t ne[], umi_error *err, const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    *out = NULL;
    const umi_gguf_tensor *gt = umi_gguf_find_tensor(m->gguf, name);
    if (!gt) {
        if (!required) return UMI_OK;
        return umi_err(err, UMI_ERR_FORMAT, "%s: missing tensor '%s'", m->arch_name, name);
    }
    const umi_tensor *t = &m->tensors[gt - m->gguf->tensors];
    for (int i = 0; i < 4; i++) {
        int64_t want = i < n_dims ? ne[i] : 1;
        if (want >= 0 && t->ne[i] != want)
            return umi_err(err, UMI_ERR_FORMAT,
                           "tensor '%s': shape [%lld, %lld, %lld, %lld], expected dim %d = %lld",
                           name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                           (long long)t->ne[3], i, (long long)want);
    }
    if (!umi_type_traits_get(t->type) || !umi_type_traits_get(t->type)->vec_dot)
        return umi_err(err, UMI_ERR_UNSUPPORTED, "tensor '%s': type %s (%u) is not supported yet",
                       name, umi_type_name((int)t->type), t->type);
    *out = t;
    return UMI_OK;
}

umi_status umi_model_bind_ffn(umi_model *m, umi_layer *L, uint32_t il, bool experts, umi_error *err) {
    const umi_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, F = hp->n_ff, X = hp->n_expert, FX = hp->n_ff_exp;
    umi_status st;
    if (!experts) {
        /* Without ffn_gate, ffn_up holds the gate rows then the up rows. */
        if ((st = umi_model_bind(m, &L->ffn_gate, false, 2, (int64_t[]){E, F}, err, "blk.%u.ffn_gate.weight", il)) ||
            (st = umi_model_bind(m, &L->ffn_up, true, 2, (int64_t[]){E, L->ffn_gate ? F : 2 * F}, err, "blk.%u.ffn_up.weight", il)) ||
            (st = umi_model_bind(m, &L->ffn_down, true, 2, (int64_t[]){F, E}, err, "blk.%u.ffn_down.weight", il)))
            return st;
        return UMI_OK;
    }
    if ((st = umi_model_bind(m, &L->ffn_gate_inp, true, 2, (int64_t[]){E, X}, err, "blk.%u.ffn_gate_inp.weight", il)) ||
        (st = umi_model_bind(m, &L->ffn_gate_exps, true, 3, (int64_t[]){E, FX, X}, err, "blk.%u.ffn_gate_exps.weight", il)) ||
        (st = umi_model_bind(m, &L->ffn_up_exps, true, 3, (int64_t[]){E, FX, X}, err, "blk.%u.ffn_up_exps.weight", il)) ||
        (st = umi_model_bind(m, &L->ffn_down_exps, true, 3, (int64_t[]){FX, E, X}, err, "blk.%u.ffn_down_exps.weight", il)) ||
        (st = umi_model_bind(m, &L->ffn_exp_probs_b, false, 1, (int64_t[]){X}, err, "blk.%u.exp_probs_b.bias", il)))
        return st;
    if (L->ffn_exp_probs_b && L->ffn_exp_probs_b->type != 0)
        return umi_err(err, UMI_ERR_UNSUPPORTED, "tensor '%s' must be f32", L->ffn_exp_probs_b->name);
    return UMI_OK;
}

umi_status umi_model_bind_llama_like(umi_model *m, umi_error *err) {
    const umi_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, V = hp->n_vocab;
    const int64_t QD = (int64_t)hp->n_head * hp->head_dim_k;
    const int64_t KD = (int64_t)hp->n_head_kv * hp->head_dim_k;
    const int64_t VD = (int64_t)hp->n_head_kv * hp->head_dim_v;
    const int64_t OD = (int64_t)hp->n_head * hp->head_dim_v;
    umi_status st;
    if ((st = umi_model_bind(m, &m->tok_embd, true, 2, (int64_t[]){E, V}, err, "token_embd.weight")) ||
        (st = umi_model_bind(m, &m->output_norm, true, 1, (int64_t[]){E}, err, "output_norm.weight")) ||
        (st = umi_model_bind(m, &m->output, false, 2, (int64_t[]){E, V}, err, "output.weight")) ||
        (st = umi_model_bind(m, &m->rope_freqs, false, 1, (int64_t[]){hp->n_rot / 2}, err,
                             "rope_freqs.weight")) ||
        (st = umi_model_bind(m, &m->rope_long, false, 1, (int64_t[]){hp->n_rot / 2}, err,
                             "rope_factors_long.weight")) ||
        (st = umi_model_bind(m, &m->rope_short, false, 1, (int64_t[]){hp->n_rot / 2}, err,
                             "rope_factors_short.weight")))
        return st;
    if (!m->output) m->output = m->tok_embd; /* tied embeddings */
    const umi_tensor *tables[] = {m->rope_freqs, m->rope_long, m->rope_short};
    for (int i = 0; i < 3; i++)
        if (tables[i] && tables[i]->type != 0)
            return umi_err(err, UMI_ERR_FORMAT, "%s must be f32", tables[i]->name);
    if (!m->rope_long != !m->rope_short)
        return umi_err(err, UMI_ERR_FORMAT, "rope_factors_long.weight and rope_factors_short.weight come in pairs");

    for (uint32_t il = 0; il < hp->n_layer; il++) {
        umi_layer *L = &m->layers[il];
        if ((st = umi_model_bind(m, &L->attn_norm, true, 1, (int64_t[]){E}, err, "blk.%u.attn_norm.weight", il)) ||
            (st = umi_model_bind(m, &L->wqkv, false, 2, (int64_t[]){E, QD + KD + VD}, err, "blk.%u.attn_qkv.weight", il)) ||
            (st = umi_model_bind(m, &L->wq, !L->wqkv, 2, (int64_t[]){E, QD}, err, "blk.%u.attn_q.weight", il)) ||
            (st = umi_model_bind(m, &L->wk, !L->wqkv, 2, (int64_t[]){E, KD}, err, "blk.%u.attn_k.weight", il)) ||
            (st = umi_model_bind(m, &L->wv, !L->wqkv, 2, (int64_t[]){E, VD}, err, "blk.%u.attn_v.weight", il)) ||
            (st = umi_model_bind(m, &L->wo, true, 2, (int64_t[]){OD, E}, err, "blk.%u.attn_output.weight", il)) ||
            (st = umi_model_bind(m, &L->bq, false, 1, (int64_t[]){QD}, err, "blk.%u.attn_q.bias", il)) ||
            (st = umi_model_bind(m, &L->bk, false, 1, (int64_t[]){KD}, err, "blk.%u.attn_k.bias", il)) ||
            (st = umi_model_bind(m, &L->bv, false, 1, (int64_t[]){VD}, err, "blk.%u.attn_v.bias", il)) ||
            (st = umi_model_bind(m, &L->bo, false, 1, (int64_t[]){E}, err, "blk.%u.attn_output.bias", il)) ||
            (st = umi_model_bind(m, &L->attn_q_norm, false, 1, (int64_t[]){hp->head_dim_k}, err, "blk.%u.attn_q_norm.weight", il)) ||
            (st = umi_model_bind(m, &L->attn_k_norm, false, 1, (int64_t[]){hp->head_dim_k}, err, "blk.%u.attn_k_norm.weight", il)) ||
            (st = umi_model_bind(m, &L->ffn_norm, true, 1, (int64_t[]){E}, err, "blk.%u.ffn_norm.weight", il)) ||
            (st = umi_model_bind(m, &L->attn_post_norm, false, 1, (int64_t[]){E}, err, "blk.%u.post_attention_norm.weight", il)) ||
            (st = umi_model_bind(m, &L->ffn_post_norm, false, 1, (int64_t[]){E}, err, "blk.%u.post_ffw_norm.weight", il)) ||
            (st = umi_model_bind_ffn(m, L, il, hp->n_expert > 0, err)))
            return st;
        /* Biases are added in f32; a quantized bias would need its own path. */
        const umi_tensor *biases[] = {L->bq, L->bk, L->bv, L->bo, L->attn_norm, L->ffn_norm,
                                      L->attn_q_norm, L->attn_k_norm, L->attn_post_norm,
                                      L->ffn_post_norm};
        for (size_t i = 0; i < sizeof biases / sizeof *biases; i++)
            if (biases[i] && biases[i]->type != 0)
                return umi_err(err, UMI_ERR_UNSUPPORTED, "tensor '%s': norms and biases must be f32",
                               biases[i]->name);
    }
    if (m->output_norm->type != 0)
        return umi_err(err, UMI_ERR_UNSUPPORTED, "output_norm.weight must be f32");
    return UMI_OK;
}

/* ---------------------------------------------------------------- load */

uint64_t umi_tensor_bytes(const umi_tensor *t) {
    return (uint64_t)umi_type_row_size(t->type, t->ne[0]) * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]);
}

void umi_model_free(umi_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_chat_templates; i++) {
        free(m->chat_templates[i].key);
        free(m->chat_templates[i].text);
    }
    free(m->chat_templates);
    umi_vocab_free(m->vocab);
    free(m->layers);
    free(m->tensors);
    if (m->repacked) munmap(m->repacked, m->repacked_bytes);
    umi_gguf_close(m->gguf);
    free(m);
}

static umi_status load_weights(umi_model *m, umi_error *err) {
    umi_status st;
    umi_gguf_get_cstr(m->gguf, "general.architecture", m->arch_name, sizeof m->arch_name);
    if (!m->arch_name[0])
        return umi_err(err, UMI_ERR_FORMAT, "not a model: general.architecture is missing");
    m->arch = find_arch(m->arch_name);
    if (!m->arch)
        return umi_err(err, UMI_ERR_UNSUPPORTED, "architecture '%s' is not supported (umi runs: llama, qwen2, qwen3, "
                       "qwen3moe, qwen2moe, gemma2, gemma3, phi3, deepseek2)",
                       m->arch_name);

    const umi_gguf *g = m->gguf;
    m->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *m->tensors);
    if (!m->tensors) return umi_err(err, UMI_ERR_NOMEM, "out of memory (tensor table)");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const umi_gguf_tensor *gt = &g->tensors[i];
        m->tensors[i] = (umi_tensor){.name = gt->name, .type = gt->type, .data = gt->data};
        memcpy(m->tensors[i].ne, gt->ne, sizeof gt->ne);
    }
    if ((st = umi_model_load_common_hparams(m, err)) || (st = umi_model_load_moe_hparams(m, err)))
        return st;
    m->hp.rope_type = m->arch->rope_type;
    if (m->arch->load_hparams && (st = m->arch->load_hparams(m, err))) return st;
    m->layers = calloc(m->hp.n_layer, sizeof *m->layers);
    if (!m->layers) return umi_err(err, UMI_ERR_NOMEM, "out of memory (layers)");
    if ((st = m->arch->load(m, err))) return st;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) m->layers[il].n_swa = umi_hparams_layer_swa(&m->hp, il);
    return UMI_OK;
}

/* Copy every tokenizer.chat_template[.<name>] string (they live in the
 * mapping without a terminating NUL). */
static umi_status load_chat_templates(umi_model *m, umi_error *err) {
    static const char prefix[] = "tokenizer.chat_template";
    const umi_gguf *g = m->gguf;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const umi_gguf_kv *kv = &g->kv[i];
        if (kv->type != UMI_GGUF_STRING || strncmp(kv->key, prefix, sizeof prefix - 1) != 0 ||
            (kv->key[sizeof prefix - 1] != 0 && kv->key[sizeof prefix - 1] != '.'))
            continue;
        void *grown = realloc(m->chat_templates, (m->n_chat_templates + 1) * sizeof *m->chat_templates);
        if (!grown) return umi_err(err, UMI_ERR_NOMEM, "out of memory (chat template)");
        m->chat_templates = grown;
        char *key = strdup(kv->key), *text = malloc(kv->str.len + 1);
        if (!key || !text) {
            free(key);
            free(text);
            return umi_err(err, UMI_ERR_NOMEM, "out of memory (chat template)");
        }
        memcpy(text, kv->str.ptr, kv->str.len);
        text[kv->str.len] = 0;
        m->chat_templates[m->n_chat_templates++] = (struct umi_chat_template_text){key, text};
    }
    return UMI_OK;
}

/* Best effort for `umi info`: whatever metadata is readable. */
static void load_info(umi_model *m) {
    umi_error ignored;
    umi_gguf_get_cstr(m->gguf, "general.name", m->name, sizeof m->name);
    umi_gguf_get_cstr(m->gguf, "tokenizer.ggml.model", m->tok_model, sizeof m->tok_model);
    umi_gguf_get_cstr(m->gguf, "general.architecture", m->arch_name, sizeof m->arch_name);
    const umi_gguf_kv *toks = umi_gguf_find(m->gguf, "tokenizer.ggml.tokens");
    if (toks && toks->type == UMI_GGUF_ARRAY) m->hp.n_vocab = (uint32_t)toks->arr_n;
    const umi_arch *a = find_arch(m->arch_name);
    if (m->arch_name[0] && umi_model_load_common_hparams(m, &ignored) == UMI_OK &&
        umi_model_load_moe_hparams(m, &ignored) == UMI_OK && a && a->load_hparams)
        a->load_hparams(m, &ignored);
    if (a) m->hp.rope_type = a->rope_type;
}

umi_status umi_model_load(const char *path, const umi_model_params *params, umi_model **out,
                          umi_error *err) {
    umi_model_params p = params ? *params : umi_model_default_params();
    *out = NULL;
    umi_model *m = calloc(1, sizeof *m);
    if (!m) return umi_err(err, UMI_ERR_NOMEM, "out of memory");
    m->vocab_only = p.vocab_only || p.info_only;
    const umi_progress pr = {p.progress, p.progress_user};
    umi_status st = umi_gguf_open_progress(path, p.use_mmap, &pr, &m->gguf, err);
    if (!st && p.info_only) {
        load_info(m);
        *out = m;
        return UMI_OK;
    }
    if (!st) {
        umi_gguf_get_cstr(m->gguf, "general.name", m->name, sizeof m->name);
        umi_gguf_get_cstr(m->gguf, "tokenizer.ggml.model", m->tok_model, sizeof m->tok_model);
        st = umi_vocab_load(m->gguf, &m->vocab, err);
    }
    if (!st) st = load_chat_templates(m, err);
    if (!st) {
        m->hp.n_vocab = (uint32_t)umi_vocab_n_tokens(m->vocab);
        if (!p.vocab_only) st = load_weights(m, err);
        if (!st && !p.vocab_only && !p.no_repack) st = umi_model_repack(m, &p, &pr, err);
        if (!st && !p.vocab_only && p.use_mmap) umi_model_prefault_experts(m, &pr);
    }
    if (st) {
        umi_model_free(m);
        return st;
    }
    *out = m;
    return UMI_OK;
}

const float *umi_model_rope_factors(const umi_model *m, uint32_t n_ctx) {
    const umi_tensor *t = m->rope_freqs ? m->rope_freqs
                          : m->rope_long ? (n_ctx > m->hp.n_ctx_orig_yarn ? m->rope_long : m->rope_short)
                                         : NULL;
    return t ? (const float *)t->data : NULL;
}
