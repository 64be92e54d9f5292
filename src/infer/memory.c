/* The context's memory breakdown (see memory.h): the one place that knows
 * how big the KV cache and the scratch buffers are. */
#include "infer/memory.h"

#include "quant/quant.h"

static size_t max3(size_t a, size_t b, size_t c) {
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

uint64_t umi_mem_kv_type_bytes(uint32_t kv_type, uint64_t n) {
    switch (kv_type) {
    case UMI_TYPE_Q8_0: return (n + 31) / 32 * 34; /* 32 int8 + one f16 scale */
    case UMI_TYPE_Q4_0: return (n + 31) / 32 * 18; /* 32 nibbles + one f16 scale */
    case UMI_TYPE_F32: return n * 4;
    default: return n * 2;
    }
}

uint32_t umi_mem_layer_kv_cells(const umi_hparams *hp, uint32_t il, uint32_t n_ctx, uint32_t n_batch) {
    const uint64_t w = umi_hparams_layer_swa(hp, il);
    const uint64_t ring = w + (n_batch ? n_batch : 1) - 1;
    return w && ring < n_ctx ? (uint32_t)ring : n_ctx;
}

void umi_mem_context_layout(const umi_hparams *hp, const umi_mem_params *p, umi_mem_layout *out) {
    const size_t B = p->n_batch, E = hp->n_embd;
    /* The FFN scratch also holds a shared expert's hidden rows (shexp.c). */
    const size_t F = hp->n_ff_shexp > hp->n_ff ? hp->n_ff_shexp : hp->n_ff;
    const size_t n_seq = p->n_seq ? p->n_seq : 1;
    const size_t QD = (size_t)hp->n_head * hp->head_dim_k, OD = (size_t)hp->n_head * hp->head_dim_v;
    const size_t KD = (size_t)hp->n_head_kv * hp->head_dim_k;
    const size_t VD = (size_t)hp->n_head_kv * hp->head_dim_v;
    *out = (umi_mem_layout){0};

    /* Cache: per layer [cells][n_head_kv][head_dim] for K and for V, cells
     * being n_ctx or a sliding-window layer's ring; an MLA layer caches one
     * compressed latent per token instead of per-head K and V. */
    size_t cache_k = 0, cache_v = 0;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const size_t ctx = umi_mem_layer_kv_cells(hp, il, p->n_ctx, p->n_batch);
        if (p->mla_kv_width) {
            cache_k += ctx * p->mla_kv_width;
        } else {
            cache_k += ctx * KD;
            cache_v += ctx * VD;
        }
    }
    out->cache_k = cache_k * n_seq;
    out->cache_v = cache_v * n_seq;
    out->kv_bytes = umi_mem_kv_type_bytes(p->kv_type, out->cache_k) +
                    umi_mem_kv_type_bytes(p->kv_type, out->cache_v);

    out->n_e = E;
    out->n_q = QD;
    out->n_k = KD;
    out->n_v = VD;
    out->n_att = OD;
    out->n_ff = F;
    out->n_hb = p->hb_width > F ? p->hb_width : F;
    /* Attention scratch per thread: one 64-position tile of scores (large
     * batches) or q and the F16 accumulator (small ones); take the larger. */
    out->att_scratch_stride = max3(64, (size_t)hp->head_dim_k + hp->head_dim_v, 0) + 16;
    /* Converted activations never exceed 4 bytes per element (F32 itself). */
    out->qbuf_bytes = B * max3(E, F, OD) * sizeof(float);
    out->n_logits = hp->n_vocab;

    const size_t floats = B * (3 * E + QD + KD + VD + OD + out->n_hb + F) +
                          (size_t)(p->n_threads > 0 ? p->n_threads : 1) * out->att_scratch_stride +
                          out->n_logits;
    out->scratch_bytes = (uint64_t)floats * sizeof(float) + out->qbuf_bytes;

    /* Expert scratch, as moe.c's umi_moe_scratch_init allocates it: router
     * logits, choices and weights per token, per-expert row lists, gate/up/out
     * rows per (token, slot), and converted activations for the widest input. */
    if (hp->n_expert) {
        const uint64_t X = hp->n_expert, U = hp->n_expert_used, FX = hp->n_ff_exp;
        const uint64_t widest = B * E > B * U * FX ? B * E : B * U * FX;
        out->moe_bytes = 4 * (B * X + 3 * B * U + (X + 1) + 2 * B * U * FX + B * U * E + widest);
    }
    out->total_bytes = out->kv_bytes + out->scratch_bytes + out->moe_bytes;
}
