/* The context's memory breakdown (see memory.h): the one place that knows
 * how big the KV cache and the scratch buffers are. */
#include "infer/memory.h"

#include <strings.h>

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

uint32_t umi_mem_kv_type_parse(const char *s, const char **name) {
    static const struct {
        const char *name;
        uint32_t type;
    } kinds[] = {{"f16", UMI_TYPE_F16}, {"q8_0", UMI_TYPE_Q8_0}, {"q4_0", UMI_TYPE_Q4_0}};
    if (!s || !*s) s = "f16";
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcasecmp(s, kinds[i].name) == 0) {
            *name = kinds[i].name;
            return kinds[i].type;
        }
    *name = NULL;
    return 0;
}

double umi_mem_act_bytes(uint32_t weight_type) {
    const umi_type_traits *tt = umi_type_traits_get(weight_type);
    if (!tt || tt->vec_dot_type == UMI_TYPE_F32) return 0;
    /* Batched F16 products may read them widened to floats (kernels/wide.c). */
    if (tt->vec_dot_type == UMI_TYPE_F16) return sizeof(float);
    return (double)umi_type_row_size(tt->vec_dot_type, 256) / 256.0; /* 256: every block size divides it */
}

uint32_t umi_mem_mla_width(const umi_hparams *hp) {
    return hp->n_lora_kv ? hp->n_lora_kv + hp->n_rot : 0;
}

uint64_t umi_mem_moe_ffn_width(const umi_hparams *hp) {
    const uint64_t routed = (uint64_t)hp->n_expert_used * hp->n_ff_exp;
    return routed > hp->n_ff_shexp ? routed : hp->n_ff_shexp;
}

uint32_t umi_mem_layer_kv_cells(const umi_hparams *hp, uint32_t il, uint32_t n_ctx, uint32_t n_batch) {
    const uint64_t w = umi_hparams_layer_swa(hp, il);
    const uint64_t ring = w + (n_batch ? n_batch : 1) - 1;
    return w && ring < n_ctx ? (uint32_t)ring : n_ctx;
}

void umi_mem_context_layout(const umi_hparams *hp, const umi_mem_params *p, umi_mem_layout *out) {
    const size_t B = p->n_batch, E = hp->n_embd, F = p->moe_only ? 0 : hp->n_ff;
    const size_t n_seq = p->n_seq ? p->n_seq : 1;
    size_t QD = (size_t)hp->n_head * hp->head_dim_k, OD = (size_t)hp->n_head * hp->head_dim_v;
    size_t KD = (size_t)hp->n_head_kv * hp->head_dim_k;
    size_t VD = (size_t)hp->n_head_kv * hp->head_dim_v;
    size_t att_k = hp->head_dim_k, att_v = hp->head_dim_v, widest_in = max3(E, max3(F, hp->n_ff_shexp, 0), OD);
    const size_t mla = umi_mem_mla_width(hp);
    if (mla) {
        /* MLA (mla.c): q holds the absorbed queries [n_head][latent | rope],
         * k the new latent rows, v the decompressed queries and then the
         * per-head latent outputs, att the per-head values; hb takes the q
         * bottleneck. Attention runs over latent rows (k: mla, v: kv_lora). */
        const size_t H = hp->n_head, nope = hp->head_dim_k_mla - hp->n_rot;
        QD = H * mla;
        KD = mla;
        VD = H * max3(hp->head_dim_k_mla, hp->n_lora_kv, 0);
        OD = H * hp->head_dim_v_mla;
        att_k = mla;
        att_v = hp->n_lora_kv;
        widest_in = max3(widest_in, max3(OD, hp->n_lora_q, H * max3(nope, hp->n_lora_kv, 0)), 0);
    }
    *out = (umi_mem_layout){0};

    /* Cache: per layer [cells][n_head_kv][head_dim] for K and for V, cells
     * being n_ctx or a sliding-window layer's ring; an MLA layer caches one
     * compressed latent per token instead of per-head K and V. */
    size_t cache_k = 0, cache_v = 0;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const size_t ctx = umi_mem_layer_kv_cells(hp, il, p->n_ctx, p->n_batch);
        if (mla) {
            cache_k += ctx * mla;
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
    /* At least one float each, so every scratch buffer is a valid allocation. */
    out->n_hb = max3(p->hb_width, F, mla ? hp->n_lora_q : 1);
    /* Attention scratch per thread: one 64-position tile of scores (large
     * batches) or q and the F16 accumulator (small ones); take the larger. */
    out->att_scratch_stride = max3(64, att_k + att_v, 0) + 16;
    /* A quantized cache (kvquant.c) keeps an F32 accumulator and q
     * converted to Q8_0 (34 bytes per 32). */
    if (p->kv_type == UMI_TYPE_Q8_0 || p->kv_type == UMI_TYPE_Q4_0)
        out->att_scratch_stride = max3(out->att_scratch_stride,
                                       att_v + (umi_mem_kv_type_bytes(UMI_TYPE_Q8_0, att_k) + 3) / 4 + 16, 0);
    /* Converted activations of the widest matmul input, in the widest
     * activation type any matrix uses (at least a cache line, so a model
     * of F32 matrices still gets a valid buffer). */
    out->qbuf_bytes = (size_t)((double)(B * widest_in) * p->act_bytes) + 64;
    out->n_logits = hp->n_vocab;

    const size_t floats = B * (3 * E + QD + KD + VD + OD + out->n_hb + F) +
                          (size_t)(p->n_threads > 0 ? p->n_threads : 1) * out->att_scratch_stride +
                          out->n_logits;
    out->scratch_bytes = (uint64_t)floats * sizeof(float) + out->qbuf_bytes;

    /* Expert scratch, as moe.c's umi_moe_scratch_init allocates it: router
     * logits, choices and weights per token, per-expert row lists, gate/up/out
     * rows per (token, slot), and converted activations for the widest input. */
    if (hp->n_expert) {
        const uint64_t X = hp->n_expert, U = hp->n_expert_used;
        const uint64_t FU = umi_mem_moe_ffn_width(hp); /* routed slots or shared experts */
        const uint64_t widest = B * E > B * FU ? B * E : B * FU;
        out->moe_xq_bytes = (size_t)((double)widest * p->act_bytes) + 64;
        out->moe_bytes = 4 * (B * X + 3 * B * U + (X + 1) + 2 * B * FU + B * U * E) + out->moe_xq_bytes;
    }
    out->total_bytes = out->kv_bytes + out->scratch_bytes + out->moe_bytes;
}
