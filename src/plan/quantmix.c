/* Which tensor type each weight gets in a file of a given type, as the
 * reference quantizer (llama-quantize) decides it.
 *
 * A file type names a default type ("Q4_K_M" → Q4_K), but the quantizer
 * spends extra bits where quality is most sensitive: the output matrix, V
 * projections, some of the FFN down projections, attention outputs of
 * 8-expert models. File sizes are predictable only with those choices, so
 * they are restated here as facts, in this file's own terms:
 *
 *   - only matrices whose name ends in "weight" are converted; norms, the
 *     expert router (ffn_gate_inp) and 1-D tensors keep their source type;
 *   - float file types (F32/F16/BF16) convert every such matrix, nothing else;
 *   - the output matrix (and the token embedding when tied to it) gets Q6_K,
 *     or Q5_K in the 1–2-bit IQ mixes, or Q8_0 when its width does not divide
 *     the type's block (and stays Q8_0 in a Q8_0 file);
 *   - a matrix whose row width does not divide its type's block falls back to a
 *     type with 32-wide blocks (Q4_K → Q5_0, Q6_K → Q8_0, IQ* → IQ4_NL, ...).
 *
 * The per-category choices are in mix_type() below. "use_more_bits" picks
 * the first and last eighth of the layers and every third one between. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/plan.h"
#include "quant/quant.h"

/* ---------------------------------------------------------------- file types */

static const struct {
    const char *name;
    uint32_t type;
} FTYPES[UMI_FT_COUNT] = {
    [UMI_FT_F32] = {"F32", UMI_TYPE_F32},         [UMI_FT_F16] = {"F16", UMI_TYPE_F16},
    [UMI_FT_BF16] = {"BF16", UMI_TYPE_BF16},      [UMI_FT_Q8_0] = {"Q8_0", UMI_TYPE_Q8_0},
    [UMI_FT_Q6_K] = {"Q6_K", UMI_TYPE_Q6_K},      [UMI_FT_Q5_K_M] = {"Q5_K_M", UMI_TYPE_Q5_K},
    [UMI_FT_Q5_K_S] = {"Q5_K_S", UMI_TYPE_Q5_K},  [UMI_FT_Q5_1] = {"Q5_1", UMI_TYPE_Q5_1},
    [UMI_FT_Q5_0] = {"Q5_0", UMI_TYPE_Q5_0},      [UMI_FT_Q4_K_M] = {"Q4_K_M", UMI_TYPE_Q4_K},
    [UMI_FT_Q4_K_S] = {"Q4_K_S", UMI_TYPE_Q4_K},  [UMI_FT_Q4_1] = {"Q4_1", UMI_TYPE_Q4_1},
    [UMI_FT_Q4_0] = {"Q4_0", UMI_TYPE_Q4_0},      [UMI_FT_IQ4_XS] = {"IQ4_XS", UMI_TYPE_IQ4_XS},
    [UMI_FT_IQ4_NL] = {"IQ4_NL", UMI_TYPE_IQ4_NL}, [UMI_FT_Q3_K_L] = {"Q3_K_L", UMI_TYPE_Q3_K},
    [UMI_FT_Q3_K_M] = {"Q3_K_M", UMI_TYPE_Q3_K},  [UMI_FT_Q3_K_S] = {"Q3_K_S", UMI_TYPE_Q3_K},
    [UMI_FT_IQ3_M] = {"IQ3_M", UMI_PT_IQ3_S},     [UMI_FT_IQ3_S] = {"IQ3_S", UMI_PT_IQ3_S},
    [UMI_FT_IQ3_XS] = {"IQ3_XS", UMI_PT_IQ3_S},   [UMI_FT_IQ3_XXS] = {"IQ3_XXS", UMI_PT_IQ3_XXS},
    [UMI_FT_Q2_K] = {"Q2_K", UMI_TYPE_Q2_K},      [UMI_FT_Q2_K_S] = {"Q2_K_S", UMI_TYPE_Q2_K},
    [UMI_FT_IQ2_M] = {"IQ2_M", UMI_PT_IQ2_S},     [UMI_FT_IQ2_S] = {"IQ2_S", UMI_PT_IQ2_XS},
    [UMI_FT_IQ2_XS] = {"IQ2_XS", UMI_PT_IQ2_XS},  [UMI_FT_IQ2_XXS] = {"IQ2_XXS", UMI_PT_IQ2_XXS},
    [UMI_FT_IQ1_M] = {"IQ1_M", UMI_PT_IQ1_M},     [UMI_FT_IQ1_S] = {"IQ1_S", UMI_PT_IQ1_S},
};

int umi_ftype_parse(const char *name) {
    for (int i = 0; name && i < UMI_FT_COUNT; i++)
        if (strcasecmp(name, FTYPES[i].name) == 0) return i;
    return -1;
}

const char *umi_ftype_name(umi_ftype ft) { return ft < UMI_FT_COUNT ? FTYPES[ft].name : "?"; }
uint32_t umi_ftype_default_type(umi_ftype ft) { return FTYPES[ft].type; }

bool umi_ftype_needs_imatrix(umi_ftype ft) {
    return ft == UMI_FT_IQ1_S || ft == UMI_FT_IQ1_M || ft == UMI_FT_IQ2_XXS ||
           ft == UMI_FT_IQ2_XS || ft == UMI_FT_IQ2_S || ft == UMI_FT_IQ2_M || ft == UMI_FT_IQ3_XXS;
}

/* ---------------------------------------------------------------- categories */

typedef enum cat {
    CAT_OTHER, CAT_OUTPUT, CAT_TOKEN_EMBD, CAT_ATTN_V, /* v, fused qkv, MLA kv_b */
    CAT_ATTN_K, CAT_ATTN_Q, CAT_ATTN_OUT, CAT_FFN_UP, CAT_FFN_GATE, CAT_FFN_DOWN,
    CAT_ATTN_QKV,
} cat;

static bool contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

static cat category(const char *name) {
    if (strcmp(name, "output.weight") == 0) return CAT_OUTPUT;
    if (strcmp(name, "token_embd.weight") == 0) return CAT_TOKEN_EMBD;
    if (contains(name, "attn_qkv.weight")) return CAT_ATTN_QKV;
    if (contains(name, "attn_kv_b.weight") || contains(name, "attn_v.weight")) return CAT_ATTN_V;
    if (contains(name, "attn_k.weight")) return CAT_ATTN_K;
    if (contains(name, "attn_q.weight")) return CAT_ATTN_Q;
    if (contains(name, "attn_output.weight")) return CAT_ATTN_OUT;
    if (contains(name, "ffn_up")) return CAT_FFN_UP;
    if (contains(name, "ffn_gate")) return CAT_FFN_GATE;
    if (contains(name, "ffn_down")) return CAT_FFN_DOWN;
    return CAT_OTHER;
}

static bool converted(const umi_cat_tensor *t) {
    const size_t len = strlen(t->name);
    return t->n_dims >= 2 && len >= 6 && strcmp(t->name + len - 6, "weight") == 0 &&
           !contains(t->name, "_norm.weight") && !contains(t->name, "ffn_gate_inp.weight");
}

/* ---------------------------------------------------------------- the mix */

typedef struct mix {
    const umi_cat_model *m;
    umi_ftype ft;
    bool imatrix, tied;
    int n_gqa, n_expert, n_layer;
    int n_attn_v, i_attn_v; /* V-like tensors, and how many were seen so far */
    int i_ffn_down;         /* FFN-down tensors seen so far */
} mix;

static bool more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static bool ft_in(umi_ftype ft, const umi_ftype *set, int n) {
    for (int i = 0; i < n; i++)
        if (set[i] == ft) return true;
    return false;
}

/* The 1–2-bit IQ mixes share one set of choices. */
static bool ft_low_iq(umi_ftype ft) {
    static const umi_ftype s[] = {UMI_FT_IQ2_XXS, UMI_FT_IQ2_XS, UMI_FT_IQ1_S,
                                  UMI_FT_IQ2_S,   UMI_FT_IQ2_M,  UMI_FT_IQ1_M};
    return ft_in(ft, s, 6);
}

static uint32_t out_type(const mix *x, const umi_cat_tensor *t, uint32_t def) {
    static const umi_ftype q5k[] = {UMI_FT_IQ2_XXS, UMI_FT_IQ2_XS, UMI_FT_IQ3_XXS, UMI_FT_IQ1_S,
                                    UMI_FT_IQ2_S,   UMI_FT_IQ2_M,  UMI_FT_IQ1_M};
    if (umi_type_row_size(def, t->ne[0]) == 0) return UMI_TYPE_Q8_0;
    if (ft_in(x->ft, q5k, 7)) return UMI_TYPE_Q5_K;
    return def == UMI_TYPE_Q8_0 ? def : UMI_TYPE_Q6_K;
}

static uint32_t low_iq_type(mix *x, cat c, uint32_t def) {
    const bool s_or_m = x->ft == UMI_FT_IQ2_S || x->ft == UMI_FT_IQ2_M;
    switch (c) {
    case CAT_ATTN_V: case CAT_ATTN_QKV:
        x->i_attn_v++;
        if (x->n_gqa >= 4 || x->n_expert >= 4) return UMI_TYPE_Q4_K;
        return s_or_m ? UMI_PT_IQ3_S : UMI_TYPE_Q2_K;
    case CAT_ATTN_K:
        return x->n_expert == 8 ? UMI_TYPE_Q4_K : def;
    case CAT_FFN_DOWN: {
        /* counts tensors, not layers: shared-expert downs count too */
        const bool early = x->i_ffn_down < x->n_layer / 8;
        x->i_ffn_down++;
        return early ? (s_or_m ? UMI_PT_IQ3_S : UMI_TYPE_Q2_K) : def;
    }
    case CAT_ATTN_OUT:
        if (x->n_expert == 8) return UMI_TYPE_Q5_K;
        if (x->ft == UMI_FT_IQ1_S || x->ft == UMI_FT_IQ1_M) return UMI_PT_IQ2_XXS;
        return s_or_m ? UMI_PT_IQ3_S : def;
    default: return def;
    }
}

static uint32_t attn_v_type(mix *x, uint32_t def) {
    uint32_t t = def;
    const int gqa = x->n_gqa;
    switch (x->ft) {
    case UMI_FT_Q2_K: t = gqa >= 4 ? UMI_TYPE_Q4_K : UMI_TYPE_Q3_K; break;
    case UMI_FT_Q2_K_S: if (gqa >= 4) t = UMI_TYPE_Q4_K; break;
    case UMI_FT_IQ3_XXS:
        t = gqa >= 4 ? UMI_TYPE_Q4_K : x->imatrix ? UMI_PT_IQ3_XXS : UMI_PT_IQ3_S;
        break;
    case UMI_FT_IQ3_XS: case UMI_FT_IQ3_S: if (gqa >= 4) t = UMI_TYPE_Q4_K; break;
    case UMI_FT_IQ3_M: t = UMI_TYPE_Q4_K; break;
    case UMI_FT_Q3_K_M: t = x->i_attn_v < 2 ? UMI_TYPE_Q5_K : UMI_TYPE_Q4_K; break;
    case UMI_FT_Q3_K_L: t = UMI_TYPE_Q5_K; break;
    case UMI_FT_IQ4_NL: case UMI_FT_IQ4_XS: if (gqa >= 4) t = UMI_TYPE_Q5_K; break;
    case UMI_FT_Q4_K_M: case UMI_FT_Q5_K_M:
        if (more_bits(x->i_attn_v, x->n_attn_v)) t = UMI_TYPE_Q6_K;
        break;
    case UMI_FT_Q4_K_S: if (x->i_attn_v < 4) t = UMI_TYPE_Q5_K; break;
    default: break;
    }
    /* 70B-class models share one V among 8 heads: more bits cost little there. */
    if ((x->m->flags & UMI_CAT_70B) && (t == UMI_TYPE_Q3_K || t == UMI_TYPE_Q4_K)) t = UMI_TYPE_Q5_K;
    if (x->n_expert == 8) t = UMI_TYPE_Q8_0;
    x->i_attn_v++;
    return t;
}

static uint32_t ffn_down_type(mix *x, int il, uint32_t def) {
    const int n = x->n_layer;
    uint32_t t = def;
    switch (x->ft) {
    case UMI_FT_Q2_K: t = UMI_TYPE_Q3_K; break;
    case UMI_FT_Q2_K_S: if (il < n / 8) t = UMI_TYPE_Q4_K; break;
    case UMI_FT_IQ3_XXS:
        if (!x->imatrix) t = il < n / 8 ? UMI_TYPE_Q4_K : UMI_TYPE_Q3_K;
        break;
    case UMI_FT_Q3_K_M: t = il < n / 16 ? UMI_TYPE_Q5_K : UMI_TYPE_Q4_K; break;
    case UMI_FT_IQ3_M:
        if (il < n / 8 || (x->n_expert == 8 && more_bits(il, n))) t = UMI_TYPE_Q4_K;
        break;
    case UMI_FT_Q3_K_L: t = UMI_TYPE_Q5_K; break;
    case UMI_FT_Q4_K_M: if (more_bits(il, n)) t = UMI_TYPE_Q6_K; break;
    case UMI_FT_IQ4_NL: case UMI_FT_IQ4_XS:
        if (il < n / 8 && !x->imatrix) t = UMI_TYPE_Q5_K;
        break;
    case UMI_FT_Q5_K_M: if (more_bits(il, n)) t = UMI_TYPE_Q6_K; break;
    case UMI_FT_Q4_K_S: if (il < n / 8) t = UMI_TYPE_Q5_K; break;
    case UMI_FT_Q4_0: if (x->imatrix && il < n / 8) t = UMI_TYPE_Q4_1; break;
    case UMI_FT_Q5_0: if (x->imatrix && il < n / 8) t = UMI_TYPE_Q5_1; break;
    default: break;
    }
    x->i_ffn_down++;
    return t;
}

static uint32_t attn_out_type(const mix *x, uint32_t def) {
    if (x->n_expert == 8) {
        static const umi_ftype s[] = {UMI_FT_Q2_K,   UMI_FT_IQ3_XS, UMI_FT_IQ3_XXS, UMI_FT_Q3_K_S,
                                      UMI_FT_Q3_K_M, UMI_FT_IQ4_NL, UMI_FT_Q4_K_S,  UMI_FT_Q4_K_M,
                                      UMI_FT_IQ3_S,  UMI_FT_IQ3_M,  UMI_FT_IQ4_XS};
        return ft_in(x->ft, s, 11) ? UMI_TYPE_Q5_K : def;
    }
    switch (x->ft) {
    case UMI_FT_Q2_K: return UMI_TYPE_Q3_K;
    case UMI_FT_IQ3_XXS: return UMI_PT_IQ3_S;
    case UMI_FT_Q3_K_M: case UMI_FT_IQ3_M: return UMI_TYPE_Q4_K;
    case UMI_FT_Q3_K_L: return UMI_TYPE_Q5_K;
    default: return def;
    }
}

static uint32_t mix_type(mix *x, const umi_cat_tensor *t, uint32_t def) {
    const cat c = category(t->name);
    if (c == CAT_OUTPUT || (x->tied && c == CAT_TOKEN_EMBD)) return out_type(x, t, def);
    if (c == CAT_TOKEN_EMBD) {
        switch (x->ft) {
        case UMI_FT_IQ2_XXS: case UMI_FT_IQ2_XS: case UMI_FT_IQ1_S: case UMI_FT_IQ1_M:
            return UMI_TYPE_Q2_K;
        case UMI_FT_IQ2_S: case UMI_FT_IQ2_M: case UMI_FT_IQ3_XXS: return UMI_PT_IQ3_S;
        default: return def;
        }
    }
    if (ft_low_iq(x->ft)) return low_iq_type(x, c, def);
    switch (c) {
    /* A fused qkv counts as V-like and takes V's choices (the reference's own
     * qkv rule sits behind that test and is never reached). */
    case CAT_ATTN_V: case CAT_ATTN_QKV: return attn_v_type(x, def);
    case CAT_ATTN_K:
        if (x->n_expert == 8) return UMI_TYPE_Q8_0;
        if (x->ft == UMI_FT_IQ3_XS) return UMI_PT_IQ3_XXS;
        if (x->ft == UMI_FT_IQ3_XXS) return UMI_PT_IQ2_S;
        return def;
    case CAT_ATTN_Q:
        if (x->ft == UMI_FT_IQ3_XS) return UMI_PT_IQ3_XXS;
        if (x->ft == UMI_FT_IQ3_XXS) return UMI_PT_IQ2_S;
        return def;
    case CAT_FFN_DOWN: return ffn_down_type(x, t->layer, def);
    case CAT_ATTN_OUT: return attn_out_type(x, def);
    case CAT_FFN_GATE: case CAT_FFN_UP:
        if (x->ft == UMI_FT_IQ3_XS && t->layer >= x->n_layer / 8 && t->layer < 7 * x->n_layer / 8)
            return UMI_PT_IQ3_XXS;
        return def;
    default: return def;
    }
}

/* A row width the chosen type's blocks do not divide falls back to a type
 * with 32-element blocks, and to F16 when even that does not divide. */
static uint32_t fallback(uint32_t type, int64_t ncols) {
    if (umi_type_row_size(type, ncols) != 0) return type;
    uint32_t f;
    switch (type) {
    case UMI_TYPE_Q2_K: case UMI_TYPE_Q3_K: f = UMI_TYPE_Q4_0; break;
    case UMI_TYPE_Q4_K: f = UMI_TYPE_Q5_0; break;
    case UMI_TYPE_Q5_K: f = UMI_TYPE_Q5_1; break;
    case UMI_TYPE_Q6_K: f = UMI_TYPE_Q8_0; break;
    default: f = UMI_TYPE_IQ4_NL; break; /* the IQ types */
    }
    return umi_type_row_size(f, ncols) != 0 ? f : UMI_TYPE_F16;
}

static bool is_block_type(uint32_t type) {
    return type != UMI_TYPE_F32 && type != UMI_TYPE_F16 && type != UMI_TYPE_BF16;
}

void umi_quant_mix(const umi_cat_model *m, umi_ftype ft, bool imatrix, umi_cat_tensor *t, size_t n) {
    const uint32_t def = FTYPES[ft].type;
    mix x = {.m = m, .ft = ft, .imatrix = imatrix, .tied = true, .n_layer = (int)m->n_layer,
             .n_gqa = m->n_head_kv ? (int)(m->n_head / m->n_head_kv) : 1, .n_expert = (int)m->n_expert};
    for (size_t i = 0; i < n; i++) {
        const cat c = category(t[i].name);
        if (c == CAT_ATTN_V || c == CAT_ATTN_QKV) x.n_attn_v++;
        if (c == CAT_OUTPUT) x.tied = false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!converted(&t[i])) continue;
        if (!is_block_type(def)) {
            t[i].type = def;
            continue;
        }
        t[i].type = fallback(mix_type(&x, &t[i], def), t[i].ne[0]);
    }
}
