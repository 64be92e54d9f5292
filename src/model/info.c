/* Public accessors: model summary for `umi info`, and the vocabulary calls
 * of umi.h forwarded to the tokenizer module. */
#include <string.h>

#include "model/model.h"
#include "core/cpu.h"
#include "infer/memory.h"
#include "quant/quant.h"

void umi_model_get_info(const umi_model *m, umi_model_info *info) {
    const umi_gguf *g = m->gguf;
    const umi_hparams *hp = &m->hp;
    memset(info, 0, sizeof *info);
    info->arch = m->arch_name[0] ? m->arch_name : "(none)";
    info->name = m->name;
    info->tokenizer = m->tok_model;
    info->gguf_version = g->version;
    info->file_bytes = g->size;
    info->n_tensors = g->n_tensors;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const umi_gguf_tensor *t = &g->tensors[i];
        info->n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        if (t->type < UMI_MAX_TYPES) {
            info->type_bytes[t->type] += t->nbytes;
            info->type_count[t->type]++;
        }
    }
    info->n_vocab = hp->n_vocab;
    info->n_ctx_train = hp->n_ctx_train;
    info->n_embd = hp->n_embd;
    info->n_layer = hp->n_layer;
    info->n_head = hp->n_head;
    info->n_head_kv = hp->n_head_kv;
    info->n_ff = hp->n_ff;
    info->head_dim = hp->n_lora_kv ? hp->head_dim_k_mla : hp->head_dim_k; /* MLA: per head once decompressed */
    info->rope_freq_base = hp->rope_freq_base;
    info->rope_freq_scale = hp->rope_freq_scale;
    info->rope_dim = hp->n_rot;
    info->rope_type = hp->rope_type == UMI_ROPE_NEOX ? "neox" : "normal";
    /* from the tensor table: umi info loads no tensors */
    info->rope_orig_ctx = umi_gguf_find_tensor(m->gguf, "rope_factors_long.weight") ? hp->n_ctx_orig_yarn : 0;
    info->has_chat_template = umi_gguf_find(g, "tokenizer.chat_template") != NULL;
    info->cpu_level = umi_cpu_level_name(umi_cpu_level_get());
    /* A decode step reads every matrix once; the embedding table only one row,
     * unless it doubles as the output matrix. */
    for (uint64_t i = 0; m->tok_embd && i < g->n_tensors; i++) {
        const umi_gguf_tensor *t = &g->tensors[i];
        const bool is_embd = strcmp(t->name, "token_embd.weight") == 0;
        if (t->n_dims >= 2 && (!is_embd || m->output == m->tok_embd))
            info->weight_bytes_per_token += t->nbytes;
    }
    /* Of each stacked expert tensor a token reads n_expert_used slices. */
    info->n_expert = hp->n_expert;
    info->n_expert_used = hp->n_expert_used;
    info->n_ff_exp = hp->n_expert ? hp->n_ff_exp : 0;
    info->n_params_active = info->n_params;
    for (uint64_t i = 0; hp->n_expert && i < g->n_tensors; i++) {
        const umi_gguf_tensor *t = &g->tensors[i];
        if (t->n_dims != 3 || t->ne[2] != hp->n_expert || !strstr(t->name, "_exps.")) continue;
        const uint64_t unused = hp->n_expert - hp->n_expert_used;
        info->n_params_active -= (uint64_t)(t->ne[0] * t->ne[1]) * unused;
        if (m->tok_embd) info->weight_bytes_per_token -= t->nbytes / hp->n_expert * unused;
    }
    /* The engine's own sizing (memory.c) at one token: MLA caches the latent. */
    umi_mem_layout lay;
    const umi_mem_params mp = {.n_ctx = 1, .n_batch = 1, .n_threads = 1, .kv_type = UMI_TYPE_F16};
    umi_mem_context_layout(hp, &mp, &lay);
    info->kv_bytes_per_token = lay.kv_bytes;
    /* Sliding-window layers cache a ring that stops growing at the window. */
    for (uint32_t il = 0; il < hp->n_layer; il++)
        if (umi_hparams_layer_swa(hp, il)) info->n_swa_layers++;
    info->n_swa = info->n_swa_layers ? hp->n_swa : 0;
    info->kv_bytes_per_token_past_window =
        hp->n_layer ? lay.kv_bytes / hp->n_layer * (hp->n_layer - info->n_swa_layers) : 0;
    info->kv_lora_rank = hp->n_lora_kv;
    info->n_expert_shared = hp->n_expert ? hp->n_expert_shared : 0;
}

int32_t umi_vocab_size(const umi_model *m) { return m->vocab ? umi_vocab_n_tokens(m->vocab) : 0; }
umi_token umi_token_bos(const umi_model *m) { return umi_vocab_bos(m->vocab); }
umi_token umi_token_eos(const umi_model *m) { return umi_vocab_eos(m->vocab); }
bool umi_token_is_eog(const umi_model *m, umi_token t) { return umi_vocab_is_eog(m->vocab, t); }
bool umi_vocab_add_bos(const umi_model *m) { return umi_vocab_get_add_bos(m->vocab); }

int32_t umi_tokenize(const umi_model *m, const char *text, size_t len, umi_token *out,
                     int32_t n_max, bool add_special, bool parse_special) {
    return umi_vocab_tokenize(m->vocab, text, len, out, n_max, add_special, parse_special);
}

int32_t umi_token_to_piece(const umi_model *m, umi_token tok, char *buf, int32_t buf_len,
                           bool special) {
    return umi_vocab_token_to_piece(m->vocab, tok, buf, buf_len, special);
}
