/* The shared experts of a mixture-of-experts layer (deepseek2, qwen2moe): a
 * SwiGLU FFN every token runs next to its routed experts, added to their sum
 * (the reference adds it after the routed sum) — for qwen2moe scaled per
 * token by sigmoid(ffn_gate_inp_shexp · x).
 *
 * The sigmoid is computed as the reference graph writes it, silu(g) / g,
 * so its last bits match. Buffers: the expert scratch, free once the routed
 * experts are summed — gate and up rows (sized for n_ff_shexp, memory.c),
 * the down projection in its output rows, the gate logits in its router rows. */
#include <math.h>

#include "infer/infer.h"

void umi_shared_expert_ffn(umi_context *ctx, const umi_layer *L, int n, float *out) {
    const int E = (int)ctx->model->hp.n_embd, S = (int)L->ffn_up_shexp->ne[1];
    umi_moe_scratch *s = &ctx->moe;
    float *gate_logit = s->logits, *down = s->out;
    if (L->ffn_gate_inp_shexp) umi_matmul(ctx, L->ffn_gate_inp_shexp, ctx->xb, n, gate_logit);
    umi_matmul(ctx, L->ffn_gate_shexp, ctx->xb, n, s->gate);
    umi_matmul(ctx, L->ffn_up_shexp, ctx->xb, n, s->up);
    umi_swiglu(s->gate, s->up, n, S);
    umi_matmul(ctx, L->ffn_down_shexp, s->gate, n, down);
    for (int t = 0; t < n; t++) {
        const float g = L->ffn_gate_inp_shexp ? gate_logit[t] : 0.0f;
        const float w = !L->ffn_gate_inp_shexp ? 1.0f : g == 0.0f ? 0.5f : g / (1.0f + expf(-g)) / g;
        const float *d = down + (size_t)t * E;
        float *o = out + (size_t)t * E;
        for (int i = 0; i < E; i++) {
            const float y = d[i] * w;
            o[i] += y;
        }
    }
}
