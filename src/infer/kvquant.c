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

void umi_hadamard(float *x, int64_t n, int n_rot) {
    const float scale = 1.0f / sqrtf((float)n_rot);
    for (int64_t i = 0; i < n; i++) x[i] *= scale;
    for (float *r = x; r < x + n; r += n_rot)
        for (int len = 1; len < n_rot; len <<= 1)
            for (int i = 0; i < n_rot; i += 2 * len)
                for (int j = i; j < i + len; j++) {
                    const float u = r[j], v = r[j + len];
                    r[j] = u + v;
                    r[j + len] = u - v;
                }
}

/* llama-kv-cache.cpp's choice: K (and q) in the largest power-of-two chunk
 * (at least 64) dividing the head, V in chunks of 64; none when the head is
 * not a multiple of 64 or the cache is F16. */
static int rot_k(const umi_context *ctx) {
    const uint32_t hd = ctx->model->hp.head_dim_k;
    if (ctx->kv_type == UMI_TYPE_F16 || hd % 64) return 0;
    int r = 64;
    while (hd % (2u * r) == 0) r *= 2;
    return r;
}

static int rot_v(const umi_context *ctx) {
    return ctx->kv_type == UMI_TYPE_F16 || ctx->model->hp.head_dim_v % 64 ? 0 : 64;
}

void umi_kv_rotate_in(umi_context *ctx, int n) {
    const umi_hparams *hp = &ctx->model->hp;
    const int rk = rot_k(ctx), rv = rot_v(ctx);
    if (rk) {
        umi_hadamard(ctx->q, (int64_t)n * hp->n_head * hp->head_dim_k, rk);
        umi_hadamard(ctx->k, (int64_t)n * hp->n_head_kv * hp->head_dim_k, rk);
    }
    if (rv) umi_hadamard(ctx->v, (int64_t)n * hp->n_head_kv * hp->head_dim_v, rv);
}

void umi_kv_rotate_out(umi_context *ctx, int n) {
    const umi_hparams *hp = &ctx->model->hp;
    const int rv = rot_v(ctx);
    if (rv) umi_hadamard(ctx->att, (int64_t)n * hp->n_head * hp->head_dim_v, rv);
}

umi_kvq_fns umi_kvq_fns_get(uint32_t kv_type, int hd_k) {
    /* One row (m = 1): the cache is never repacked, so Q4_0 takes the plain
     * vec_dot order, as the reference's K cache does. */
    const umi_kernel_plan p = umi_kernels_plan(kv_type, hd_k, 1, 1, 0);
    return (umi_kvq_fns){.act = p.act, .dot = p.dot, .axpy = umi_kv_axpy_get(kv_type)};
}

/* Online softmax (Milakov & Gimelshein 2018) with an F32 accumulator; the
 * rescale, the V update (dequantize, then fused multiply-add: kvaxpy.h) and
 * S = S*ms + vs follow the reference's one_chunk loop. Position p is in
 * cell p % cells. */
void umi_kvq_attention_head(const umi_kvq_fns *f, const uint8_t *kc, size_t k_stride, const uint8_t *vc,
                            size_t v_stride, int hd_k, int hd_v, int first, int n_kv, int cells,
                            const float *q, const umi_att_scores *sc, float *out, float *scratch) {
    float *acc = scratch;
    void *q8 = scratch + hd_v;
    f->act(q, q8, hd_k);
    memset(acc, 0, (size_t)hd_v * sizeof *acc);
    float M = -INFINITY, S = 0.0f;
    for (int p = first, c = first % cells; p < n_kv; p++, c = c + 1 == cells ? 0 : c + 1) {
        float s = f->dot(hd_k, kc + (size_t)c * k_stride, q8) * sc->scale;
        if (sc->softcap != 0.0f) s = sc->softcap * tanhf(s);
        float ms, vs;
        if (umi_softmax_step(s, &M, &ms, &vs))
            for (int i = 0; i < hd_v; i++) acc[i] *= ms;
        f->axpy(hd_v, acc, vc + (size_t)c * v_stride, vs);
        S = fmaf(S, ms, vs);
    }
    const float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int i = 0; i < hd_v; i++) out[i] = acc[i] * inv;
}
