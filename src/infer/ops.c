/* Element-wise building blocks of the decoder: RMSNorm, RoPE, SwiGLU, bias. */
#include <math.h>

#include "core/cpu.h"
#include "core/expf.h"
#include "core/fp16.h"
#include "infer/infer.h"
#include "kernels/expf_rows.h"

void umi_rmsnorm(float *out, const float *x, const float *w, int n, int dim, float eps) {
    for (int r = 0; r < n; r++) {
        const float *xr = x + (int64_t)r * dim;
        float *yr = out + (int64_t)r * dim;
        double sum = 0.0;
        for (int i = 0; i < dim; i++) sum += (double)(xr[i] * xr[i]);
        const float mean = (float)(sum / dim);
        const float scale = 1.0f / sqrtf(mean + eps);
        /* (x * scale) * w, in that order, as two separate roundings. */
        for (int i = 0; i < dim; i++) {
            float v = xr[i] * scale;
            yr[i] = w ? v * w[i] : v;
        }
    }
}

/* YaRN's correction range: the pair indices whose wavelength spans between
 * beta_fast and beta_slow rotations over the original context. */
static float yarn_corr_dim(int n_rot, uint32_t n_ctx_orig, float beta, float base) {
    return (float)n_rot * logf((float)n_ctx_orig / (beta * 2 * (float)M_PI)) / (2 * logf(base));
}

/* Rotary embeddings (Su et al. 2021, RoFormer). Frequencies are built by
 * repeated multiplication theta_{i+1} = theta_i * base^(-2/n_rot) starting
 * from theta_0 = pos, as the reference does; powf per index would differ in
 * the last bits and flip near-tie tokens. With YaRN (arXiv:2309.00071) each
 * pair blends the scaled and the original angle by a ramp over the
 * correction dims, and cos/sin carry the magnitude factor. */
void umi_rope(const umi_hparams *hp, const float *freq_factors, float *x, int n, int n_heads,
              int head_dim, uint32_t pos0) {
    const int n_rot = (int)hp->n_rot;
    const float theta_scale = powf(hp->rope_freq_base, -2.0f / (float)n_rot);
    const float ext = hp->yarn_ext_factor;
    /* hparams built by hand (tests, the planner) leave the factor 0: no scaling */
    float mscale = hp->yarn_attn_factor != 0.0f ? hp->yarn_attn_factor : 1.0f;
    float lo = 0.0f, hi = 0.0f;
    if (ext != 0.0f) {
        lo = fmaxf(0.0f, floorf(yarn_corr_dim(n_rot, hp->n_ctx_orig_yarn, hp->yarn_beta_fast, hp->rope_freq_base)));
        hi = fminf((float)(n_rot - 1), ceilf(yarn_corr_dim(n_rot, hp->n_ctx_orig_yarn, hp->yarn_beta_slow, hp->rope_freq_base)));
        mscale *= 1.0f + 0.1f * logf(1.0f / hp->rope_freq_scale);
    }
    float cs[2 * 512]; /* cos, sin per rotated pair; n_rot <= 1024 */
    for (int t = 0; t < n; t++) {
        float theta = (float)(pos0 + (uint32_t)t);
        for (int i = 0; i < n_rot / 2; i++) {
            const float ff = freq_factors ? freq_factors[i] : 1.0f;
            float th = hp->rope_freq_scale * (theta / ff);
            if (ext != 0.0f) {
                const float y = ((float)i - lo) / fmaxf(0.001f, hi - lo);
                const float mix = (1.0f - fminf(1.0f, fmaxf(0.0f, y))) * ext;
                th = th * (1.0f - mix) + (theta / ff) * mix;
            }
            cs[2 * i] = cosf(th) * mscale;
            cs[2 * i + 1] = sinf(th) * mscale;
            theta *= theta_scale;
        }
        for (int h = 0; h < n_heads; h++) {
            float *v = x + ((int64_t)t * n_heads + h) * head_dim;
            for (int i = 0; i < n_rot / 2; i++) {
                /* NORM rotates (2i, 2i+1); NEOX rotates (i, i + n_rot/2). */
                const int a = hp->rope_type == UMI_ROPE_NEOX ? i : 2 * i;
                const int b = hp->rope_type == UMI_ROPE_NEOX ? i + n_rot / 2 : 2 * i + 1;
                /* Rounded as the reference's build contracts these expressions. */
                const float x0 = v[a], x1 = v[b];
                v[a] = fmaf(x0, cs[2 * i], -(x1 * cs[2 * i + 1]));
                v[b] = fmaf(x0, cs[2 * i + 1], x1 * cs[2 * i]);
            }
        }
    }
}

void umi_add_bias(float *y, const float *b, int n, int dim) {
    for (int r = 0; r < n; r++)
        for (int i = 0; i < dim; i++) y[(int64_t)r * dim + i] += b[i];
}

/* SiLU(gate) * up of elements [from, to) of one row of dim: the row's body
 * (dim rounded down to 16) takes umi_expf_poly, 16 lanes at a time
 * (expf_rows.h), the tail libm's expf (the reference's vector body and
 * scalar remainder), so an element rounds the same whichever span it is
 * computed in. */
static void swiglu_span(float *g, const float *u, int64_t from, int64_t to, int dim) {
    const int64_t body = dim & ~15, mid = to < body ? to : body;
    int64_t i = from;
    if (mid - from >= 16) {
        const int64_t n16 = (mid - from) & ~(int64_t)15;
        umi_kernels_expf_rows(umi_cpu_level_get()).silu_mul(g + from, g + from, u + from, (int)n16);
        i += n16;
    }
    for (; i < to; i++) {
        const float e = i < body ? umi_expf_poly(-g[i]) : expf(-g[i]);
        g[i] = g[i] / (1.0f + e) * u[i];
    }
}

void umi_swiglu(float *gate, const float *up, int n_rows, int dim) {
    for (int r = 0; r < n_rows; r++) swiglu_span(gate + (int64_t)r * dim, up + (int64_t)r * dim, 0, dim, dim);
}

/* SwiGLU of a fused projection: each input row holds dim gate values then dim
 * up values; out[r] = silu(gate) * up, as umi_swiglu rounds it. */
void umi_swiglu_fused(float *out, const float *gate_up, int n_rows, int dim) {
    const int body = dim & ~15;
    const umi_expf_rows ex = umi_kernels_expf_rows(umi_cpu_level_get());
    for (int r = 0; r < n_rows; r++) {
        const float *g = gate_up + (int64_t)r * 2 * dim, *u = g + dim;
        float *o = out + (int64_t)r * dim;
        ex.silu_mul(o, g, u, body);
        for (int i = body; i < dim; i++) o[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
}

/* GELU, tanh approximation, of one half-precision value: the reference
 * tabulates it for every half (its build fuses a*x*x + 1), and looks the
 * input up after rounding it to half. */
static float gelu_of_half(float x) {
    const float inner = 0.79788456080286535587989211986876f * x * fmaf(0.044715f * x, x, 1.0f);
    return umi_fp16_to_fp32(umi_fp32_to_fp16(0.5f * x * (1.0f + tanhf(inner))));
}

static void geglu_span(float *gate, const float *up, int64_t from, int64_t to) {
    for (int64_t i = from; i < to; i++) {
        const float x = gate[i];
        if (x <= -10.0f) gate[i] = 0.0f;
        else if (x >= 10.0f) gate[i] = x * up[i];
        else gate[i] = gelu_of_half(umi_fp16_to_fp32(umi_fp32_to_fp16(x))) * up[i];
    }
}

void umi_geglu(float *gate, const float *up, int n_rows, int dim) {
    geglu_span(gate, up, 0, (int64_t)n_rows * dim);
}

void umi_glu_span(float *gate, const float *up, int64_t from, int64_t to, int dim, bool gelu) {
    if (gelu) geglu_span(gate, up, from, to);
    else swiglu_span(gate, up, from, to, dim);
}

void umi_scale(float *x, int64_t n, float s) {
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}

/* x -> cap * tanh(x * (1 / cap)), in the reference's three steps. */
void umi_softcap(float *x, int64_t n, float cap) {
    const float inv = 1.0f / cap;
    for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i] * inv) * cap;
}
