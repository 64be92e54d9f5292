/* Matrix-vector and matrix-matrix products against stored weights.
 *
 * Activations are converted once per call to the weight type's vec_dot_type
 * (Q8_0, Q8_K, F16, ...) exactly as the reference engine does, then each
 * thread takes a contiguous range of weight rows and dots it against every
 * token, so each weight row is read from memory once per call. */
#include <string.h>

#include "infer/infer.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

typedef struct matmul_task {
    const umi_tensor *w;
    const umi_type_traits *wt;
    const umi_type_traits *at; /* activation (vec_dot) type */
    const float *x;
    const void *xq; /* converted activations, n rows of xq_row bytes */
    size_t xq_row;
    float *y;
    int n;
} matmul_task;

static void convert_rows(void *arg, int ith, int nth) {
    matmul_task *t = arg;
    int64_t r0, r1;
    umi_split_rows(t->n, ith, nth, &r0, &r1);
    const int64_t k = t->w->ne[0];
    for (int64_t r = r0; r < r1; r++)
        t->at->from_float(t->x + r * k, (char *)t->xq + r * t->xq_row, k);
}

/* F32 and F16 weights are summed in the reference's order (kernels.h):
 * its batched path for two or more tokens, its vector path for one. */
static float dot_float(uint32_t type, bool gemm, int k, const void *w, const void *x) {
    if (type == UMI_TYPE_F32)
        return gemm ? umi_dot_f32_gemm(k, w, x) : umi_dot_f32_vec(k, w, x);
    return gemm ? umi_dot_f16_gemm(k, w, x) : umi_dot_f16_vec(k, w, x);
}

static void dot_rows(void *arg, int ith, int nth) {
    matmul_task *t = arg;
    const int64_t k = t->w->ne[0], m = t->w->ne[1];
    const size_t w_row = umi_type_row_size(t->w->type, k);
    const bool ordered = t->w->type == UMI_TYPE_F32 || t->w->type == UMI_TYPE_F16;
    const bool q8 = t->w->type == UMI_TYPE_Q8_0;
    const bool gemm = t->n >= 2 && k % UMI_LANES == 0;
    int64_t r0, r1;
    umi_split_rows(m, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const void *wr = (const char *)t->w->data + r * w_row;
        for (int i = 0; i < t->n; i++) {
            const void *xi = (const char *)t->xq + i * t->xq_row;
            if (ordered) t->y[i * m + r] = dot_float(t->w->type, gemm, (int)k, wr, xi);
            else if (q8) t->y[i * m + r] = umi_dot_q8_0_lanes8((int)k, wr, xi);
            else t->wt->vec_dot((int)k, &t->y[i * m + r], wr, xi);
        }
    }
}

void umi_matmul(umi_context *ctx, const umi_tensor *w, const float *x, int n, float *y) {
    matmul_task t = {.w = w, .x = x, .y = y, .n = n};
    t.wt = umi_type_traits_get(w->type);
    t.at = umi_type_traits_get(t.wt->vec_dot_type);
    if (t.wt->vec_dot_type == UMI_TYPE_F32) {
        t.xq = x;
        t.xq_row = (size_t)w->ne[0] * sizeof(float);
    } else {
        t.xq = ctx->qbuf;
        t.xq_row = umi_type_row_size(t.wt->vec_dot_type, w->ne[0]);
        umi_pool_run(ctx->pool, convert_rows, &t);
    }
    umi_pool_run(ctx->pool, dot_rows, &t);
}
