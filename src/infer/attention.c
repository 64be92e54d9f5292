/* Causal self-attention over the KV cache (F16 here; Q8_0/Q4_0 in kvquant.c).
 *
 * Two numerically distinct paths, chosen as the reference engine chooses
 * them, so that greedy decoding agrees with it token for token:
 *  - small batches (decode, short prompts; < 64 query rows): q is rounded to
 *    F16, scores are F16 dots, and the softmax-weighted sum of V is kept in
 *    an F16 accumulator with an online softmax (Milakov & Gimelshein 2018);
 *  - large batches (>= 64 rows, prompt processing): scores and the weighted
 *    sum of V in F32 with an exact two-pass softmax.
 * Heads share KV heads in groups of n_head / n_head_kv (GQA). */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "infer/infer.h"
#include "infer/kvquant.h"
#include "kernels/att_small.h"
#include "kernels/expf_rows.h"
#include "kernels/kernels.h"

enum { LARGE_BATCH = 64 };

typedef struct att_task {
    umi_context *ctx;
    int layer;
    int n;
} att_task;

/* Online softmax with an F16 accumulator, acc = acc*ms + v*vs per
 * position, for g heads that share a KV head (q rows hd_k apart, outputs
 * hd_v apart; q16 and acc hold g rows). Position p is in cell p % cells (a
 * sliding-window ring; cells >= n_kv for a full cache). Positions go in
 * runs: the run's scores (each key row read once for the g heads), each
 * head's softmax steps, then the updates of the g accumulators in order,
 * which the kernel keeps in registers through the run. Every head gets the
 * bits it gets alone. */
enum { SMALL_RUN = 32, SMALL_GROUP = UMI_ATT_GROUP_MAX, SMALL_HD = UMI_ATT_HD_MAX };

static void head_small(const uint16_t *kc, size_t k_stride, const uint16_t *vc, size_t v_stride, int hd_k,
                       int hd_v, int first, int n_kv, int cells, const float *q, int g, const umi_att_scores *sc,
                       float *out, uint16_t *q16, uint16_t *acc) {
    const umi_att_small_kernels f = umi_kernels_att_small(umi_cpu_level_get());
    for (int i = 0; i < g * hd_k; i++) q16[i] = umi_fp32_to_fp16(q[i]);
    memset(acc, 0, (size_t)g * hd_v * sizeof *acc);
    float M[SMALL_GROUP], S[SMALL_GROUP];
    for (int j = 0; j < g; j++) M[j] = -INFINITY, S[j] = 0.0f;
    const uint16_t *kr[SMALL_RUN], *vr[SMALL_RUN];
    bool rescale[SMALL_GROUP * SMALL_RUN];
    float s[SMALL_GROUP * SMALL_RUN], ms[SMALL_GROUP * SMALL_RUN], vs[SMALL_GROUP * SMALL_RUN];
    for (int p = first, c = first % cells; p < n_kv;) {
        int n = 0;
        for (; n < SMALL_RUN && p < n_kv; n++, p++, c = c + 1 == cells ? 0 : c + 1)
            kr[n] = kc + c * k_stride, vr[n] = vc + c * v_stride;
        f.scores(hd_k, kr, q16, g, s, n);
        for (int j = 0; j < g; j++)
            for (int i = 0; i < n; i++) {
                const int o = j * n + i;
                float x = s[o] * sc->scale;
                if (sc->softcap != 0.0f) x = sc->softcap * tanhf(x);
                rescale[o] = umi_softmax_step(x, &M[j], &ms[o], &vs[o]);
                S[j] = fmaf(S[j], ms[o], vs[o]); /* contracted in the reference build */
            }
        f.rows(hd_v, acc, g, vr, rescale, ms, vs, n);
    }
    for (int j = 0; j < g; j++) {
        const float inv = S[j] == 0.0f ? 0.0f : 1.0f / S[j];
        for (int i = 0; i < hd_v; i++) out[j * hd_v + i] = umi_fp16_to_fp32(acc[j * hd_v + i]) * inv;
    }
}

/* The large-batch path, in the reference's tiled order: keys in tiles of
 * 64 positions; per tile the scores are sequential fused dot products,
 * scaled; an online softmax rescales the F32 accumulator when the maximum
 * grows; the tile's exponentials (umi_expf_poly) are summed in 16-lane
 * groups into a double; V is accumulated by sequential fused
 * multiply-adds. Positions after the query's are masked (weight 0). */
enum { KV_TILE = 64 };

/* Up to GROUP_Q query rows that read the same K/V rows (the heads of one
 * KV head, for one token) share each tile's key loads. */
enum { GROUP_Q = 8 };

static void head_large(const uint16_t *kc, size_t k_stride, const uint16_t *vc, size_t v_stride,
                       int hd_k, int hd_v, int first, int n_kv, int cells, const float *q, int nq,
                       const umi_att_scores *sc, float *out) {
    float M[GROUP_Q], S[GROUP_Q], p[GROUP_Q][KV_TILE];
    int32_t koff[KV_TILE], voff[KV_TILE]; /* each tile position's K and V row (cell position % cells) */
    /* The SIMD chains address rows by 32-bit byte offsets; a cache too big for them takes the scalar ones. */
    const bool wide = (int64_t)cells * (int64_t)(k_stride > v_stride ? k_stride : v_stride) >= (INT64_C(1) << 30);
    const umi_att_kernels att = umi_kernels_att(wide ? UMI_CPU_GENERIC : umi_cpu_level_get());
    const umi_expf_rows ex = umi_kernels_expf_rows(umi_cpu_level_get());
    for (int a = 0; a < nq; a++) M[a] = -INFINITY, S[a] = 0.0f;
    memset(out, 0, (size_t)nq * hd_v * sizeof *out);
    /* Tiles stay aligned to position 0; those wholly before a sliding
     * window's first position are skipped, as fully masked tiles are. */
    for (int t0 = first - first % KV_TILE; t0 < n_kv; t0 += KV_TILE) {
        const int n_tile = n_kv - t0 < KV_TILE ? n_kv - t0 : KV_TILE;
        for (int i = 0; i < n_tile; i++) {
            const int c = (t0 + i) % cells;
            koff[i] = (int32_t)((size_t)c * k_stride), voff[i] = (int32_t)((size_t)c * v_stride);
        }
        att.scores(kc, koff, n_tile, q, nq, hd_k, p[0], KV_TILE);
        for (int a = 0; a < nq; a++) {
            float *pa = p[a], *oa = out + (size_t)a * hd_v;
            float tile_max = -INFINITY;
            if (sc->softcap == 0.0f) {
                tile_max = ex.scale_max(pa, KV_TILE, sc->scale, first - t0, n_kv - t0);
            } else {
                for (int i = 0; i < KV_TILE; i++) {
                    if (t0 + i >= n_kv || t0 + i < first) {
                        pa[i] = -INFINITY;
                        continue;
                    }
                    pa[i] = tanhf(pa[i] * sc->scale) * sc->softcap;
                    /* fmaxf's result without its libm call (a NaN score is skipped alike) */
                    if (pa[i] > tile_max) tile_max = pa[i];
                }
            }
            const float m_new = fmaxf(M[a], tile_max);
            if (m_new > M[a]) {
                const float ms = expf(M[a] - m_new);
                for (int d = 0; d < hd_v; d++) oa[d] *= ms;
                S[a] *= ms;
            }
            M[a] = m_new;
            const double sum = ex.exp_sum(pa, KV_TILE, M[a]);
            S[a] = (float)((double)S[a] + sum);
        }
        /* every query's rescale before any accumulation: each output still
         * takes its own steps in order, and the queries share V loads */
        att.accum(vc, voff, n_tile, p[0], KV_TILE, nq, hd_v, out);
    }
    for (int a = 0; a < nq; a++) {
        const float inv = S[a] == 0.0f ? 0.0f : 1.0f / S[a];
        for (int d = 0; d < hd_v; d++) out[(size_t)a * hd_v + d] *= inv;
    }
}

static void attention_rows(void *arg, int ith, int nth) {
    const att_task *t = arg;
    umi_context *ctx = t->ctx;
    const umi_hparams *hp = &ctx->model->hp;
    const int hd_k = (int)hp->head_dim_k, hd_v = (int)hp->head_dim_v;
    const int n_head = (int)hp->n_head, group = (int)(hp->n_head / hp->n_head_kv);
    const size_t k_stride = (size_t)hp->n_head_kv * hd_k, v_stride = (size_t)hp->n_head_kv * hd_v;
    const umi_kvq_fns kq = ctx->kv_type != UMI_TYPE_F16 ? umi_kvq_fns_get(ctx->kv_type, hd_k) : (umi_kvq_fns){0};
    const umi_layer *L = &ctx->model->layers[t->layer];
    /* A q already scaled by q_scale (gemma2, phi3) is dotted unscaled. */
    umi_att_scores sc = {.scale = hp->q_scale != 0.0f ? 1.0f : 1.0f / sqrtf((float)hd_k),
                         .softcap = hp->attn_softcap};
    if (sc.softcap != 0.0f) sc.scale /= sc.softcap;
    float *scratch = ctx->att_scratch + (size_t)ith * ctx->att_scratch_stride;

    /* Over an F16 cache the heads of one KV head of a token go together
     * (item = up to GROUP_Q heads of a large batch, all the group's heads
     * of a small one), as long as every thread gets at least two items. */
    const bool large = t->n >= LARGE_BATCH && !ctx->multi && ctx->kv_type == UMI_TYPE_F16;
    const bool grouped = !large && ctx->kv_type == UMI_TYPE_F16 && group <= SMALL_GROUP && hd_k <= SMALL_HD &&
                         hd_v <= SMALL_HD;
    int per = large ? (group < GROUP_Q ? group : GROUP_Q) : grouped ? group : 1; /* heads per item */
    while (group % per) per--; /* a divisor of group */
    while (grouped && per > 1 && (int64_t)t->n * (n_head / per) < 2 * (int64_t)nth)
        for (per--; group % per; per--) {}
    const int n_items = n_head / per;
    /* Items dealt round-robin: a causal batch's later tokens attend over
     * more positions, so contiguous halves would leave one thread ~3x the
     * other's work. Each item's result does not depend on who computes it. */
    for (int64_t item = ith; item < (int64_t)t->n * n_items; item += nth) {
        const int tok = (int)(item / n_items), h = (int)(item % n_items) * per, kvh = h / group;
        const int n_kv = (int)umi_row_pos(ctx, tok) + 1; /* causal: positions 0..pos */
        /* a multi-sequence pass: the row's own cache, as a one-row batch */
        const umi_context *kv = umi_row_ctx(ctx, tok);
        const int n_rows = ctx->multi ? 1 : t->n;
        /* Offsets in bytes of the cache type (F16, or Q8_0/Q4_0 rows: kvquant.h). */
        const uint8_t *kl = kv->k_data + umi_kv_bytes(kv, kv->kv_first[t->layer] * k_stride);
        const uint8_t *vl = kv->v_data + umi_kv_bytes(kv, kv->kv_first[t->layer] * v_stride);
        const int cells = (int)kv->kv_cells[t->layer];
        /* sliding window: the n_swa positions up to and including pos */
        const int first = L->n_swa && n_kv > (int)L->n_swa ? n_kv - (int)L->n_swa : 0;
        const float *q = ctx->q + ((size_t)tok * n_head + h) * hd_k;
        float *out = ctx->att + ((size_t)tok * n_head + h) * hd_v;
        const uint8_t *kh = kl + umi_kv_bytes(kv, (size_t)kvh * hd_k), *vh = vl + umi_kv_bytes(kv, (size_t)kvh * hd_v);
        if (large)
            head_large((const uint16_t *)kh, k_stride, (const uint16_t *)vh, v_stride, hd_k, hd_v, first, n_kv,
                       cells, q, per, &sc, out);
        else if (ctx->kv_type == UMI_TYPE_F16 && per > 1)
            umi_attention_group_small((const uint16_t *)kh, k_stride, (const uint16_t *)vh, v_stride, hd_k, hd_v,
                                      first, n_kv, cells, q, per, &sc, out);
        else if (ctx->kv_type == UMI_TYPE_F16)
            umi_attention_head((const uint16_t *)kh, k_stride, (const uint16_t *)vh, v_stride, hd_k, hd_v,
                               first, n_kv, cells, q, &sc, n_rows, out, scratch);
        else
            umi_kvq_attention_head(&kq, kh, umi_kv_bytes(ctx, k_stride), vh, umi_kv_bytes(ctx, v_stride), hd_k,
                                   hd_v, first, n_kv, cells, q, &sc, out, scratch);
    }
}

void umi_attention_head(const uint16_t *kc, size_t k_stride, const uint16_t *vc, size_t v_stride,
                        int hd_k, int hd_v, int first, int n_kv, int cells, const float *q,
                        const umi_att_scores *sc, int n_rows, float *out, float *scratch) {
    if (n_rows < LARGE_BATCH) {
        uint16_t *q16 = (uint16_t *)scratch, *acc = q16 + hd_k;
        head_small(kc, k_stride, vc, v_stride, hd_k, hd_v, first, n_kv, cells, q, 1, sc, out, q16, acc);
    } else {
        head_large(kc, k_stride, vc, v_stride, hd_k, hd_v, first, n_kv, cells, q, 1, sc, out);
    }
}

void umi_attention_group_small(const uint16_t *kc, size_t k_stride, const uint16_t *vc, size_t v_stride, int hd_k,
                               int hd_v, int first, int n_kv, int cells, const float *q, int g,
                               const umi_att_scores *sc, float *out) {
    uint16_t q16[SMALL_GROUP * SMALL_HD], acc[SMALL_GROUP * SMALL_HD];
    assert(g >= 1 && g <= SMALL_GROUP && hd_k <= SMALL_HD && hd_v <= SMALL_HD);
    head_small(kc, k_stride, vc, v_stride, hd_k, hd_v, first, n_kv, cells, q, g, sc, out, q16, acc);
}

void umi_attention(umi_context *ctx, int layer, int n) {
    att_task t = {.ctx = ctx, .layer = layer, .n = n};
    umi_pool_run(ctx->pool, attention_rows, &t);
}
