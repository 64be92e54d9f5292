/* The shared expert of a mixture-of-experts layer (qwen2moe): a SwiGLU FFN
 * every token runs next to its routed experts, scaled per token by
 * sigmoid(ffn_gate_inp_shexp · x) and added to their sum.
 *
 * The sigmoid is computed as the reference graph writes it, silu(g) / g,
 * so its last bits match. Buffers: gate and up in ctx->hb / ctx->hb2
 * (sized for n_ff_shexp, memory.c), the down projection in the expert
 * scratch's output rows and the gate logits in its router rows, both free
 * once the routed experts are summed. */
#include <math.h>

#include "infer/infer.h"

void umi_shared_expert_ffn(umi_context *ctx, const umi_layer *L, int n, float *out) {
    const int E = (int)ctx->model->hp.n_embd, S = (int)L->ffn_up_shexp->ne[1];
    float *gate_logit = ctx->moe.logits, *down = ctx->moe.out;
    umi_matmul(ctx, L->ffn_gate_inp_shexp, ctx->xb, n, gate_logit);
    umi_matmul(ctx, L->ffn_gate_shexp, ctx->xb, n, ctx->hb);
    umi_matmul(ctx, L->ffn_up_shexp, ctx->xb, n, ctx->hb2);
    umi_swiglu(ctx->hb, ctx->hb2, n, S);
    umi_matmul(ctx, L->ffn_down_shexp, ctx->hb, n, down);
    for (int t = 0; t < n; t++) {
        const float g = gate_logit[t];
        const float w = g == 0.0f ? 0.5f : g / (1.0f + expf(-g)) / g;
        const float *d = down + (size_t)t * E;
        float *o = out + (size_t)t * E;
        for (int i = 0; i < E; i++) {
            const float y = d[i] * w;
            o[i] += y;
        }
    }
}
