/* A catalog model's tensor table, as a GGUF conversion lays it out, and the
 * size of the file that holds it.
 *
 * Shapes follow GGML (ne[0] is the input width). Matrices start as F16 (the
 * source a quantizer reads); 1-D tensors (norms, biases) and the expert
 * router stay F32, as the converter writes them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "plan/plan.h"
#include "quant/quant.h"

typedef struct builder {
    umi_cat_tensor *t;
    size_t n, cap;
    bool oom;
} builder;

static void add(builder *b, int layer, int n_dims, int64_t ne0, int64_t ne1, int64_t ne2,
                const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void add(builder *b, int layer, int n_dims, int64_t ne0, int64_t ne1, int64_t ne2,
                const char *fmt, ...) {
    if (b->oom) return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        umi_cat_tensor *t = realloc(b->t, cap * sizeof *t);
        if (!t) {
            b->oom = true;
            return;
        }
        b->t = t;
        b->cap = cap;
    }
    umi_cat_tensor *t = &b->t[b->n++];
    memset(t, 0, sizeof *t);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->n_dims = n_dims;
    t->ne[0] = ne0;
    t->ne[1] = n_dims > 1 ? ne1 : 1;
    t->ne[2] = n_dims > 2 ? ne2 : 1;
    t->ne[3] = 1;
    t->type = n_dims > 1 ? UMI_TYPE_F16 : UMI_TYPE_F32;
    t->layer = layer;
    t->expert = n_dims > 2;
}

/* The reference quantizer walks tensors by layer number (outside-block
 * tensors first), then by name; its per-layer counters depend on that order. */
static int cmp_tensor(const void *pa, const void *pb) {
    const umi_cat_tensor *a = pa, *b = pb;
    if (a->layer != b->layer) return a->layer < b->layer ? -1 : 1;
    return strcmp(a->name, b->name);
}

static void add_ffn(builder *b, const umi_cat_model *m, int il) {
    const int64_t E = m->n_embd;
    const bool moe = m->n_expert > 0 && (uint32_t)il >= m->n_dense_lead;
    if (!moe) {
        if (m->layout == UMI_CAT_PHI3) {
            add(b, il, 2, E, 2 * (int64_t)m->n_ff, 0, "blk.%d.ffn_up.weight", il);
        } else {
            add(b, il, 2, E, m->n_ff, 0, "blk.%d.ffn_gate.weight", il);
            add(b, il, 2, E, m->n_ff, 0, "blk.%d.ffn_up.weight", il);
        }
        add(b, il, 2, m->n_ff, E, 0, "blk.%d.ffn_down.weight", il);
        return;
    }
    const int64_t X = m->n_expert, FE = m->n_ff_exp;
    add(b, il, 2, E, X, 0, "blk.%d.ffn_gate_inp.weight", il);
    b->t[b->n - 1].type = UMI_TYPE_F32; /* the converter keeps the router in F32 */
    add(b, il, 3, E, FE, X, "blk.%d.ffn_gate_exps.weight", il);
    add(b, il, 3, E, FE, X, "blk.%d.ffn_up_exps.weight", il);
    add(b, il, 3, FE, E, X, "blk.%d.ffn_down_exps.weight", il);
    if (m->n_expert_shared) {
        const int64_t FS = FE * m->n_expert_shared;
        add(b, il, 2, E, FS, 0, "blk.%d.ffn_gate_shexp.weight", il);
        add(b, il, 2, E, FS, 0, "blk.%d.ffn_up_shexp.weight", il);
        add(b, il, 2, FS, E, 0, "blk.%d.ffn_down_shexp.weight", il);
    }
    if (m->flags & UMI_CAT_EXP_BIAS) add(b, il, 1, X, 0, 0, "blk.%d.exp_probs_b.bias", il);
}

static void add_attention(builder *b, const umi_cat_model *m, int il) {
    const int64_t E = m->n_embd, H = m->n_head, HKV = m->n_head_kv, HD = m->head_dim;
    const int64_t HDV = m->head_dim_v ? m->head_dim_v : m->head_dim;
    if (m->layout == UMI_CAT_PHI3) {
        add(b, il, 2, E, (H + 2 * HKV) * HD, 0, "blk.%d.attn_qkv.weight", il);
    } else if (m->layout == UMI_CAT_DEEPSEEK2) {
        if (m->q_lora) {
            add(b, il, 2, E, m->q_lora, 0, "blk.%d.attn_q_a.weight", il);
            add(b, il, 1, m->q_lora, 0, 0, "blk.%d.attn_q_a_norm.weight", il);
            add(b, il, 2, m->q_lora, H * HD, 0, "blk.%d.attn_q_b.weight", il);
        } else {
            add(b, il, 2, E, H * HD, 0, "blk.%d.attn_q.weight", il);
        }
        const int64_t nope = HD - m->rope_dim;
        add(b, il, 2, E, m->kv_lora + m->rope_dim, 0, "blk.%d.attn_kv_a_mqa.weight", il);
        add(b, il, 1, m->kv_lora, 0, 0, "blk.%d.attn_kv_a_norm.weight", il);
        add(b, il, 2, m->kv_lora, H * (nope + HDV), 0, "blk.%d.attn_kv_b.weight", il);
    } else {
        add(b, il, 2, E, H * HD, 0, "blk.%d.attn_q.weight", il);
        add(b, il, 2, E, HKV * HD, 0, "blk.%d.attn_k.weight", il);
        add(b, il, 2, E, HKV * HDV, 0, "blk.%d.attn_v.weight", il);
        if (m->flags & UMI_CAT_QKV_BIAS) {
            add(b, il, 1, H * HD, 0, 0, "blk.%d.attn_q.bias", il);
            add(b, il, 1, HKV * HD, 0, 0, "blk.%d.attn_k.bias", il);
            add(b, il, 1, HKV * HDV, 0, 0, "blk.%d.attn_v.bias", il);
        }
        if (m->flags & UMI_CAT_QK_NORM) {
            add(b, il, 1, HD, 0, 0, "blk.%d.attn_q_norm.weight", il);
            add(b, il, 1, HD, 0, 0, "blk.%d.attn_k_norm.weight", il);
        }
    }
    add(b, il, 2, H * HDV, E, 0, "blk.%d.attn_output.weight", il);
}

umi_status umi_cat_tensors(const umi_cat_model *m, umi_cat_tensor **out, size_t *n, umi_error *err) {
    builder b = {0};
    const int64_t E = m->n_embd, V = m->n_vocab;
    add(&b, -1, 2, E, V, 0, "token_embd.weight");
    add(&b, -1, 1, E, 0, 0, "output_norm.weight");
    if (!(m->flags & UMI_CAT_TIED)) add(&b, -1, 2, E, V, 0, "output.weight");
    if (m->flags & UMI_CAT_ROPE_FREQS) add(&b, -1, 1, m->head_dim / 2, 0, 0, "rope_freqs.weight");
    for (int il = 0; il < (int)m->n_layer; il++) {
        add(&b, il, 1, E, 0, 0, "blk.%d.attn_norm.weight", il);
        add_attention(&b, m, il);
        add(&b, il, 1, E, 0, 0, "blk.%d.ffn_norm.weight", il);
        if (m->flags & UMI_CAT_POST_NORMS) {
            add(&b, il, 1, E, 0, 0, "blk.%d.post_attention_norm.weight", il);
            add(&b, il, 1, E, 0, 0, "blk.%d.post_ffw_norm.weight", il);
        }
        add_ffn(&b, m, il);
    }
    if (b.oom) {
        free(b.t);
        return umi_err(err, UMI_ERR_NOMEM, "out of memory (tensor table of %s)", m->name);
    }
    qsort(b.t, b.n, sizeof *b.t, cmp_tensor);
    *out = b.t;
    *n = b.n;
    return UMI_OK;
}

/* ---------------------------------------------------------------- file size */

static uint64_t align32(uint64_t x) { return (x + 31) & ~(uint64_t)31; }

/* Metadata is estimated: the vocabulary dominates it (token strings averaging
 * about 7 bytes plus their 8-byte lengths, a type per token, scores for
 * SentencePiece, merges for BPE), then the chat template and a few dozen
 * scalar keys. A 128k-token Llama 3 vocab is about 8 MB; that is 0.2% of an
 * 8B Q4_K_M file, so the estimate only needs to be roughly right. */
static uint64_t metadata_bytes(const umi_cat_model *m) {
    uint64_t b = 24 + 4096 + 8192; /* header, scalar keys, chat template */
    b += (uint64_t)m->n_vocab * (8 + 7 + 4);
    if (m->flags & UMI_CAT_SPM) b += (uint64_t)m->n_vocab * 4;
    b += (uint64_t)m->n_merges * (8 + 12);
    return b;
}

uint64_t umi_cat_file_bytes(const umi_cat_model *m, const umi_cat_tensor *t, size_t n) {
    uint64_t head = metadata_bytes(m), data = 0;
    for (size_t i = 0; i < n; i++) {
        head += 8 + strlen(t[i].name) + 4 + 8 * (uint64_t)t[i].n_dims + 4 + 8;
        const size_t row = umi_type_row_size(t[i].type, t[i].ne[0]);
        data += align32((uint64_t)row * t[i].ne[1] * t[i].ne[2] * t[i].ne[3]);
    }
    return align32(head) + data;
}

uint64_t umi_cat_predict_file_bytes(const umi_cat_model *m, umi_ftype ft, bool imatrix) {
    umi_cat_tensor *t = NULL;
    size_t n = 0;
    if (!m || ft >= UMI_FT_COUNT || umi_cat_tensors(m, &t, &n, NULL) != UMI_OK) return 0;
    umi_quant_mix(m, ft, imatrix, t, n);
    const uint64_t bytes = umi_cat_file_bytes(m, t, n);
    free(t);
    return bytes;
}
