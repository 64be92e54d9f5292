/* Quantized KV cache rows (kvquant.h): storing them and attending over them. */
#include "infer/kvquant.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/fp16.h"
#include "quant/quant.h"

umi_status umi_kv_type_check(const umi_hparams *hp, uint32_t kv_type, const char *name, umi_error *err) {
    if (kv_type == UMI_TYPE_F16) return UMI_OK;
    if (umi_mem_mla_width(hp))
        return umi_err(err, UMI_ERR_ARG,
                       "KV cache type %s: this model's latent attention (MLA) cache is f16 only", name);
    /* The reference refuses this too: a block must not straddle two heads. */
    if (hp->head_dim_k % 32 || hp->head_dim_v % 32)
        return umi_err(err, UMI_ERR_ARG,
                       "KV cache type %s needs head dimensions that are multiples of 32 (this model's: %u, %u); "
                       "use f16",
                       name, hp->head_dim_k, hp->head_dim_v);
    return UMI_OK;
}

void umi_kv_put(uint32_t kv_type, uint8_t *cache, size_t cell, size_t n, const float *src) {
    uint8_t *row = cache + (size_t)umi_mem_kv_type_bytes(kv_type, cell * n);
    switch (kv_type) {
    case UMI_TYPE_Q8_0:
        /* The reference's CPU from_float for Q8_0 is its run-time activation
         * quantizer (ties to even), which the kernel plan also uses. */
        umi_kernels_plan(UMI_TYPE_Q8_0, (int64_t)n, 1, 1, 0).act(src, row, (int64_t)n);
        break;
    case UMI_TYPE_Q4_0: umi_quant_from_float_q4_0(src, row, (int64_t)n); break;
    default: {
        uint16_t *h = (uint16_t *)row;
        for (size_t i = 0; i < n; i++) h[i] = umi_fp32_to_fp16(src[i]);
    }
    }
}

umi_kvq_fns umi_kvq_fns_get(uint32_t kv_type, int hd_k) {
    /* One row (m = 1): the cache is never repacked, so Q4_0 takes the plain
     * vec_dot order, as the reference's K cache does. */
    const umi_kernel_plan p = umi_kernels_plan(kv_type, hd_k, 1, 1, 0);
    return (umi_kvq_fns){.act = p.act, .dot = p.dot, .to_float = umi_type_traits_get(kv_type)->to_float};
}

/* Online softmax (Milakov & Gimelshein 2018) with an F32 accumulator; the
 * rescale, the fused V update and S = S*ms + vs follow the reference's
 * one_chunk loop. Position p is in cell p % cells. */
void umi_kvq_attention_head(const umi_kvq_fns *f, const uint8_t *kc, size_t k_stride, const uint8_t *vc,
                            size_t v_stride, int hd_k, int hd_v, int first, int n_kv, int cells,
                            const float *q, const umi_att_scores *sc, float *out, float *scratch) {
    float *acc = scratch, *v32 = scratch + hd_v;
    void *q8 = scratch + 2 * hd_v;
    f->act(q, q8, hd_k);
    memset(acc, 0, (size_t)hd_v * sizeof *acc);
    float M = -INFINITY, S = 0.0f;
    for (int p = first, c = first % cells; p < n_kv; p++, c = c + 1 == cells ? 0 : c + 1) {
        float s = f->dot(hd_k, kc + (size_t)c * k_stride, q8) * sc->scale;
        if (sc->softcap != 0.0f) s = sc->softcap * tanhf(s);
        float ms, vs;
        if (umi_softmax_step(s, &M, &ms, &vs))
            for (int i = 0; i < hd_v; i++) acc[i] *= ms;
        f->to_float(vc + (size_t)c * v_stride, v32, hd_v);
        for (int i = 0; i < hd_v; i++) acc[i] = fmaf(v32[i], vs, acc[i]);
        S = fmaf(S, ms, vs);
    }
    const float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int i = 0; i < hd_v; i++) out[i] = acc[i] * inv;
}
