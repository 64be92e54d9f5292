/* umi_plan_compute: from a model (a GGUF header or a catalog entry) and a
 * target machine to bytes, a verdict and tokens per second.
 *
 *   memory = weights (tensor data, mapped) + KV cache + compute buffers
 *            (both from umi_mem_context_layout, the engine's own sizing)
 *            + runtime overhead (vocabulary, tables, thread stacks)
 *   decode = efficiency × bandwidth ÷ (weight bytes a token reads + KV bytes
 *            read at that depth), less a fixed cost per layer
 *   prompt = effective matmul rate ÷ 2 FLOPs per active parameter, plus
 *            attention over the cached positions (P*D + P*P/2 per head) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cpu.h"
#include "core/error.h"
#include "gguf/gguf.h"
#include "infer/memory.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "plan/plan.h"
#include "quant/interleave.h"
#include "quant/quant.h"

umi_plan_params umi_plan_default_params(void) {
    return (umi_plan_params){.quant = "Q4_K_M"};
}

const char *umi_plan_verdict_name(umi_plan_verdict v) {
    switch (v) {
    case UMI_PLAN_FITS: return "fits";
    case UMI_PLAN_TIGHT: return "tight";
    case UMI_PLAN_NO_FIT: return "does not fit";
    }
    return "?";
}

/* ---------------------------------------------------------------- the model */

typedef struct plan_model {
    umi_hparams hp;
    char arch[32], title[128], quant[16];
    umi_cat_tensor *t; /* owned */
    size_t n;
    uint64_t file_bytes;
} plan_model;

static void hparams_from_catalog(const umi_cat_model *c, umi_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    hp->n_vocab = c->n_vocab;
    hp->n_ctx_train = c->n_ctx_train;
    hp->n_embd = c->n_embd;
    hp->n_layer = c->n_layer;
    hp->n_head = c->n_head;
    hp->n_head_kv = c->n_head_kv;
    hp->n_ff = c->n_ff ? c->n_ff : c->n_ff_exp;
    hp->head_dim_k = c->head_dim;
    hp->head_dim_v = c->head_dim_v ? c->head_dim_v : c->head_dim;
    hp->n_expert = c->n_expert;
    hp->n_expert_used = c->n_expert_used;
    hp->n_ff_exp = c->n_ff_exp;
    hp->n_expert_shared = c->n_expert_shared;
    hp->n_ff_shexp = c->n_ff_exp * c->n_expert_shared;
    hp->n_layer_dense_lead = c->n_dense_lead;
    if (c->kv_lora) { /* MLA: the per-head widths are the decompressed ones */
        hp->n_lora_q = c->q_lora;
        hp->n_lora_kv = c->kv_lora;
        hp->n_rot = c->rope_dim;
        hp->head_dim_k_mla = hp->head_dim_k;
        hp->head_dim_v_mla = hp->head_dim_v;
    }
    hp->n_swa = c->n_swa;
    hp->swa_period = 2; /* the catalog's windows are Gemma 2's: every other layer */
}

static umi_status load_catalog(const umi_plan_params *p, plan_model *pm, umi_error *err) {
    const umi_cat_model *c = umi_cat_find(p->catalog);
    if (!c)
        return umi_err(err, UMI_ERR_ARG, "'%s' is not in the catalog (umi plan --list shows it)",
                       p->catalog ? p->catalog : "");
    const char *q = p->quant && *p->quant ? p->quant : "Q4_K_M";
    const int ft = umi_ftype_parse(q);
    if (ft < 0)
        return umi_err(err, UMI_ERR_ARG,
                       "unknown quantization '%s' (F32 F16 BF16 Q8_0 Q6_K Q5_K_M ... IQ1_S)", q);
    umi_status st = umi_cat_tensors(c, &pm->t, &pm->n, err);
    if (st) return st;
    const bool imatrix = p->imatrix || umi_ftype_needs_imatrix((umi_ftype)ft);
    umi_quant_mix(c, (umi_ftype)ft, imatrix, pm->t, pm->n);
    pm->file_bytes = umi_cat_file_bytes(c, pm->t, pm->n);
    hparams_from_catalog(c, &pm->hp);
    snprintf(pm->arch, sizeof pm->arch, "%s", c->arch);
    snprintf(pm->title, sizeof pm->title, "%s", c->title);
    snprintf(pm->quant, sizeof pm->quant, "%s", umi_ftype_name((umi_ftype)ft));
    return UMI_OK;
}

static umi_status load_file(const umi_plan_params *p, plan_model *pm, umi_error *err) {
    umi_model_params mp = umi_model_default_params();
    mp.info_only = true;
    umi_model *m = NULL;
    umi_status st = umi_model_load(p->model_path, &mp, &m, err);
    if (st) return st;
    const umi_gguf *g = m->gguf;
    pm->hp = m->hp;
    if (pm->hp.n_layer == 0 || pm->hp.n_embd == 0) {
        umi_model_free(m);
        return umi_err(err, UMI_ERR_UNSUPPORTED,
                       "%s: no usable hyperparameters for architecture '%s'", p->model_path,
                       m->arch_name[0] ? m->arch_name : "(none)");
    }
    snprintf(pm->arch, sizeof pm->arch, "%.31s", m->arch_name);
    snprintf(pm->title, sizeof pm->title, "%.127s", m->name[0] ? m->name : p->model_path);
    pm->file_bytes = g->size;
    /* Sliding windows and MLA's latent width come with the hyperparameters
     * (the architecture reads them). */
    pm->t = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *pm->t);
    if (!pm->t) {
        umi_model_free(m);
        return umi_err(err, UMI_ERR_NOMEM, "out of memory (tensor table)");
    }
    pm->n = g->n_tensors;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const umi_gguf_tensor *gt = &g->tensors[i];
        umi_cat_tensor *t = &pm->t[i];
        snprintf(t->name, sizeof t->name, "%s", gt->name);
        t->n_dims = (int)gt->n_dims;
        memcpy(t->ne, gt->ne, sizeof t->ne);
        t->type = gt->type;
        t->expert = gt->ne[2] > 1 && strstr(gt->name, "_exps") != NULL;
    }
    umi_model_free(m);
    return UMI_OK;
}

/* ---------------------------------------------------------------- the target */

static const char *kind_name(umi_hw_kind k) {
    switch (k) {
    case UMI_HW_APPLE: return "apple";
    case UMI_HW_UNIFIED: return "unified";
    case UMI_HW_DGPU: return "gpu";
    case UMI_HW_CPU: return "cpu";
    }
    return "cpu";
}

static void hw_from_profile(const umi_hw_profile *h, umi_plan_hw *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", h->name);
    snprintf(out->title, sizeof out->title, "%s", h->title);
    out->kind = kind_name(h->kind);
    out->mem_gb = out->avail_gb = h->mem_gb;
    out->bw_gbps = h->bw_gbps;
    out->tflops = h->tflops;
    out->gpu_limit_pct = h->gpu_limit * 100;
    out->cores = h->cores;
}

static umi_status resolve_hw(const umi_plan_params *p, umi_plan_hw *hw, umi_error *err) {
    const char *name = p->hw && *p->hw ? p->hw : "this";
    if (strcasecmp(name, "this") == 0) {
        umi_plan_host_profile(hw, !(p->bw_gbps > 0) && !p->memory_only);
    } else {
        const umi_hw_profile *h = umi_hw_find(name);
        if (!h)
            return umi_err(err, UMI_ERR_ARG,
                           "unknown hardware profile '%s' (umi plan --list shows the profiles)", name);
        hw_from_profile(h, hw);
    }
    if (p->mem_gb > 0) hw->mem_gb = hw->avail_gb = p->mem_gb;
    if (p->bw_gbps > 0) {
        hw->bw_gbps = p->bw_gbps;
        hw->bw_measured = false;
    }
    if (p->gpu_limit_pct > 0) hw->gpu_limit_pct = p->gpu_limit_pct > 100 ? 100 : p->gpu_limit_pct;
    return UMI_OK;
}

/* What the target lets the model use: on a plain CPU the memory available
 * now; where a GPU must hold the model, its share of memory (Apple wires at
 * most iogpu.wired_limit_mb, ~2/3 or 3/4 of RAM by default). */
static uint64_t budget_bytes(const umi_plan_hw *hw) {
    const bool cpu = strcmp(hw->kind, "cpu") == 0;
    const double gb = cpu ? hw->avail_gb : hw->mem_gb * hw->gpu_limit_pct / 100.0;
    return gb > 0 ? (uint64_t)(gb * 1e9) : 0;
}

/* Per-token costs that do not scale with bytes: kernel launches on GPUs,
 * thread synchronisation on CPUs. Seconds per layer. */
static double layer_overhead_s(const umi_plan_hw *hw) {
    if (strcmp(hw->kind, "apple") == 0) return 100e-6;
    if (strcmp(hw->kind, "unified") == 0) return 60e-6;
    if (strcmp(hw->kind, "gpu") == 0) return 20e-6;
    return 10e-6;
}

/* Share of peak bandwidth a decode step reaches, from published llama.cpp
 * tg128 runs (M2/M3 Ultra 70B Q4_K_M ~0.7; Strix Halo 70B ~0.85) and, for
 * CPUs, the measured streaming bandwidth umi bench reaches. */
static double bw_efficiency(const umi_plan_hw *hw) {
    if (strcmp(hw->kind, "apple") == 0) return 0.72;
    if (strcmp(hw->kind, "unified") == 0) return 0.85;
    if (strcmp(hw->kind, "gpu") == 0) return 0.80;
    return hw->bw_measured ? 0.90 : 0.80;
}

/* ---------------------------------------------------------------- the plan */

typedef struct mem_setup {
    const umi_hparams *hp;
    umi_mem_params mp;
    /* weights + overhead: what does not depend on the context. An untied
     * token embedding is not in it: its rows are read, never mapped
     * (model/embd_rows.c), so they stay out of the process. */
    uint64_t fixed;
    /* bytes a decode step reads, by weight type: [0] in the layout the
     * loader gives the type, [1] kept in the file's (a Q6_K output matrix
     * or expert stack; a stack with no interleaved form for its shape:
     * model/repack.c), read by other kernels */
    double read_type[2][UMI_MAX_TYPES];
    /* multiply-adds per prompt token, by layout as above and by type: the
     * layers' matrices [0] and the chosen experts' [1]; the output matrix
     * apart (a prompt computes it for its last token only) */
    double pp_params[2][2][UMI_MAX_TYPES];
    double out_params;
} mem_setup;

static uint64_t mem_total(const mem_setup *s, uint32_t n_ctx, umi_mem_layout *lay) {
    umi_mem_params mp = s->mp;
    mp.n_ctx = n_ctx;
    if (mp.n_batch > n_ctx) mp.n_batch = n_ctx; /* as umi_context_init clamps it */
    umi_mem_layout l;
    umi_mem_context_layout(s->hp, &mp, &l);
    if (lay) *lay = l;
    return s->fixed + l.total_bytes;
}

/* Weights, active parameters and bytes read per token; into ms the scratch
 * sizing the matrices imply and the resident weights (all but an untied embedding). */
/* Whether the loader gives weights of this type another layout than the
 * file's (where they are eligible): only then does their layout change
 * which kernel reads them. */
static bool relaid(uint32_t type) {
    const umi_model_params load = umi_model_default_params();
    return umi_layout_for_type(type) != UMI_LAYOUT_GGUF && umi_repack_type_wanted(type, &load);
}

static void account_tensors(const plan_model *pm, umi_plan_result *r, mem_setup *ms, bool batch_decode,
                            uint64_t *matmul_params) {
    bool tied = true;
    for (size_t i = 0; i < pm->n; i++)
        if (strcmp(pm->t[i].name, "output.weight") == 0) tied = false;
    uint64_t lookup_only = 0; /* bytes of an untied embedding table */
    const double used = pm->hp.n_expert ? (double)pm->hp.n_expert_used / pm->hp.n_expert : 1.0;
    double active = 0, read = 0, mm = 0;
    for (size_t i = 0; i < pm->n; i++) {
        const umi_cat_tensor *t = &pm->t[i];
        const uint64_t nel = (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        const uint64_t bytes = (uint64_t)umi_type_row_size(t->type, t->ne[0]) * (nel / (uint64_t)t->ne[0]);
        const double frac = t->expert ? used : 1.0;
        r->n_params += nel;
        r->weight_bytes += bytes;
        if (t->type < UMI_MAX_TYPES) r->type_bytes[t->type] += bytes;
        active += nel * frac;
        /* A decode step reads every matrix once (experts: the chosen ones);
         * the embedding table only one row, unless it is also the output. */
        const bool is_embd = strcmp(t->name, "token_embd.weight") == 0;
        if (t->n_dims >= 2 && (!is_embd || tied)) {
            read += bytes * frac;
            const bool is_out = strcmp(t->name, "output.weight") == 0 || is_embd;
            /* as model/repack.c lays them out: weights read a token at a
             * time may stay in the file's layout, an expert stack of a type
             * without an interleaved form for its shape too */
            const bool kept = !umi_repack_per_token_wanted(t->type, batch_decode);
            const bool stack_file = t->expert && (kept || umi_kernels_layout(t->type, t->ne[0], t->ne[1],
                                                                            umi_cpu_level_get()) == UMI_LAYOUT_GGUF);
            const bool file = stack_file || (is_out && kept);
            const bool relaid_here = file && relaid(t->type);
            if (t->type < UMI_MAX_TYPES) {
                ms->read_type[relaid_here][t->type] += bytes * frac;
                if (is_out) ms->out_params += (double)nel;
                else ms->pp_params[t->expert][relaid_here][t->type] += (double)nel * frac;
            }
            mm += nel * frac;
            const double ab = umi_mem_act_bytes(t->type);
            if (ab > ms->mp.act_bytes) ms->mp.act_bytes = ab;
        } else if (is_embd) {
            lookup_only = bytes;
        }
    }
    ms->fixed = r->weight_bytes - lookup_only;
    r->n_params_active = (uint64_t)active;
    r->bytes_per_token = (uint64_t)read;
    *matmul_params = (uint64_t)mm;
}

/* Whether speeds come from this machine's measured rates per weight type:
 * on `this` profile, unless a given bandwidth asks for the bandwidth model
 * (umi bench passes both: its bandwidth and fresh rates). */
static bool host_rates(const umi_plan_params *p, const umi_plan_result *r) {
    return strcmp(r->hw.name, "this") == 0 && (p->fresh_rates || !(p->bw_gbps > 0));
}

/* Seconds a decode step spends reading the weights: on this machine each
 * type's bytes at its measured decode rate (host.c; measured and cached on
 * first use), else all bytes at the profile's effective bandwidth. */
static double weights_read_s(const umi_plan_params *p, const mem_setup *ms, double bw, umi_plan_result *r) {
    const bool host = host_rates(p, r);
    double s = 0, rest = 0;
    r->tg_measured_rates = host;
    for (int f = 0; f < 2; f++)
        for (int t = 0; t < UMI_MAX_TYPES; t++) {
            const double bytes = ms->read_type[f][t];
            if (bytes <= 0) continue;
            const double gbps = host ? umi_plan_decode_rate(t, ms->mp.n_threads, f, true, p->fresh_rates) : 0;
            if (gbps > 0) s += bytes / (gbps * 1e9);
            else rest += bytes;
            if (gbps <= 0 && bytes * 100 > r->bytes_per_token) r->tg_measured_rates = false;
        }
    return s + (bw > 0 ? rest / bw : 0);
}

/* Seconds of decode attention's arithmetic at depth d on this machine:
 * every layer's heads over its cached positions (a sliding layer's
 * window) at the measured rate per thread (host.c). On a few cores this,
 * more than reading the cache, sets the speed deep in a context (bench-1b
 * Q4_0 at depth 8000: 2.2x the time the cache's bytes take). 0 for other
 * hardware (a GPU's attention is its own), for the quantized caches' and
 * MLA's paths, and when unknown. */
static double attention_s(const umi_plan_params *p, const plan_model *pm, const mem_setup *ms, uint32_t d,
                          const umi_plan_result *r) {
    const umi_hparams *hp = &pm->hp;
    if (!host_rates(p, r) || umi_mem_mla_width(hp) || ms->mp.kv_type != UMI_TYPE_F16 || !hp->n_head_kv) return 0;
    const double rate = umi_plan_attention_rate((int)hp->head_dim_k, (int)hp->head_dim_v,
                                                (int)(hp->n_head / hp->n_head_kv), true, false);
    if (rate <= 0) return 0;
    double pairs = 0;
    for (uint32_t il = 0; il < hp->n_layer; il++) pairs += (double)hp->n_head * umi_mem_layer_kv_cells(hp, il, d, 1);
    return pairs / (rate * (ms->mp.n_threads > 0 ? ms->mp.n_threads : 1));
}

/* Seconds per token of a prompt chunk's attention after `depth` cached
 * tokens: a chunk of P attends, per layer and head, to P*D + P*P/2
 * positions (causal), so each token to D + P/2. On this machine at the
 * decode attention rate, twice it for chunks of 64 rows or more (attention.c's
 * large-batch path; bench-1b Q4_0, 2 threads, pp128/pp512 at depths 0-2048:
 * 1.8-2.2x); else 4 FLOPs per position and head dim at flops_rate. */
static double prompt_attention_s(const umi_plan_params *p, const plan_model *pm, const mem_setup *ms, double depth,
                                 double flops_rate, const umi_plan_result *r) {
    const umi_hparams *hp = &pm->hp;
    const double batch = ms->mp.n_batch ? ms->mp.n_batch : 512, large_speedup = 2.0;
    const uint32_t at = (uint32_t)(depth + batch / 2);
    const double s = attention_s(p, pm, ms, at, r);
    if (s > 0) return batch >= 64 ? s / large_speedup : s;
    double cells = 0;
    for (uint32_t il = 0; il < hp->n_layer; il++) cells += umi_mem_layer_kv_cells(hp, il, at, 1);
    return flops_rate > 0 ? 4.0 * cells * hp->n_head * hp->head_dim_k / flops_rate : 0;
}

/* Prompt tokens/s into an empty cache (pp_tps) and for the chunk that ends
 * the context (pp_tps_full): two FLOPs per multiply-add of the layers'
 * matrices, the output matrix's once per batch, plus the attention above.
 * On this machine each type's products run at their measured prompt rate
 * (host.c; measured once and cached, and measured again for umi bench's
 * fresh plan: on a shared host the CPU time a VM gets swings too, and one
 * cached probe from a slow minute put bench-1b Q8_0 at half its speed);
 * elsewhere all at the profile's calibrated rate. */
static void prompt_rates(const umi_plan_params *p, const mem_setup *ms, const plan_model *pm,
                         uint64_t matmul_params, umi_plan_result *r) {
    const umi_plan_hw *hw = &r->hw;
    const double batch = ms->mp.n_batch ? ms->mp.n_batch : 512;
    const double out = 2.0 * ms->out_params / batch;
    const double flops = 2.0 * ((double)matmul_params - ms->out_params) + out;
    if (flops <= 0) return;
    /* Expert products run below a dense product's rate: ~0.65 on an M3
     * Ultra (DeepSeek R1, a few tokens per expert); here, against the
     * probe's own 64-token products, ~0.8 (bench-moe: each expert's inputs
     * gathered and converted apart, ~128 tokens each). */
    const double expert_eff = 0.65, host_expert_eff = 0.8;
    double mm_s, att_rate;
    if (host_rates(p, r)) {
        const int threads = ms->mp.n_threads;
        /* the portable scalar kernels' probes take tens of seconds: cached */
        const bool fresh = p->fresh_rates && !p->keep_prompt_rates && umi_cpu_level_get() != UMI_CPU_GENERIC;
        mm_s = 0;
        for (int e = 0; e < 2; e++)
            for (int f = 0; f < 2; f++)
                for (int t = 0; t < UMI_MAX_TYPES; t++) {
                    const double w = 2.0 * ms->pp_params[e][f][t];
                    if (w <= 0) continue;
                    /* types with under 1 % of the work are not worth a probe */
                    const double g = w * 100 > flops ? umi_plan_prompt_rate(t, threads, f, true, fresh) : 0;
                    mm_s += w / ((g > 0 ? g * 1e9 : hw->tflops * 1e12) * (e ? host_expert_eff : 1.0));
                }
        const double g16 = umi_plan_prompt_rate(UMI_TYPE_F16, threads, false, true, fresh);
        att_rate = g16 > 0 ? g16 * 1e9 : hw->tflops * 1e12;
        mm_s += out / att_rate;
        r->pp_measured_rates = g16 > 0;
    } else {
        att_rate = (pm->hp.n_expert ? expert_eff : 1.0) * hw->tflops * 1e12;
        mm_s = flops / att_rate;
    }
    const double full = r->n_ctx > batch ? r->n_ctx - batch : 0;
    const double s0 = mm_s + prompt_attention_s(p, pm, ms, 0, att_rate, r);
    const double s1 = mm_s + prompt_attention_s(p, pm, ms, full, att_rate, r);
    r->pp_tps = s0 > 0 ? 1.0 / s0 : 0;
    r->pp_tps_full = s1 > 0 ? 1.0 / s1 : 0;
}

static void predict_speed(const umi_plan_params *p, const plan_model *pm, const mem_setup *ms,
                          uint64_t matmul_params, umi_plan_result *r) {
    const umi_plan_hw *hw = &r->hw;
    const double bw = hw->bw_gbps * 1e9 * bw_efficiency(hw);
    const double fixed_s = pm->hp.n_layer * layer_overhead_s(hw);
    /* KV bytes read per token at depth d: one sequence's cache up to d. */
    umi_mem_params one = ms->mp;
    one.n_seq = 1;
    one.n_ctx = r->n_ctx;
    umi_mem_layout full;
    umi_mem_context_layout(&pm->hp, &one, &full);
    if (bw > 0) {
        const double weights_s = weights_read_s(p, ms, bw, r);
        r->tg_tps = 1.0 / (weights_s + fixed_s);
        /* reading the cache, then the heads' arithmetic on it (the probe's
         * cache sits in cache memory): added, as bench-1b measured them
         * at depths 2048 and 8000 (the longer of the two alone: 1.10-1.15x) */
        const double kv_s = (double)full.kv_bytes / bw, att_s = attention_s(p, pm, ms, r->n_ctx, r);
        r->tg_tps_full = 1.0 / (weights_s + kv_s + att_s + fixed_s);
    }
    prompt_rates(p, ms, pm, matmul_params, r);
}

umi_status umi_plan_compute(const umi_plan_params *params, umi_plan_result *out, umi_error *err) {
    umi_plan_params p = params ? *params : umi_plan_default_params();
    memset(out, 0, sizeof *out);
    const char *kv_name;
    const uint32_t kv_type = umi_mem_kv_type_parse(p.kv_type, &kv_name);
    if (!kv_name) return umi_err(err, UMI_ERR_ARG, "unknown KV cache type '%s' (f16, q8_0, q4_0)", p.kv_type);
    if (!p.model_path && !p.catalog) return umi_err(err, UMI_ERR_ARG, "plan: give a GGUF file or a catalog model");

    plan_model pm = {0};
    umi_status st = p.model_path ? load_file(&p, &pm, err) : load_catalog(&p, &pm, err);
    if (!st) st = resolve_hw(&p, &out->hw, err);
    if (st) {
        free(pm.t);
        return st;
    }
    umi_plan_result *r = out;
    snprintf(r->model, sizeof r->model, "%s", p.model_path ? p.model_path : pm.title);
    snprintf(r->arch, sizeof r->arch, "%s", pm.arch);
    snprintf(r->quant, sizeof r->quant, "%s", pm.quant);
    r->file_bytes = pm.file_bytes;
    const umi_hparams *hp = &pm.hp;
    r->n_layer = hp->n_layer;
    r->n_embd = hp->n_embd;
    r->n_head = hp->n_head;
    r->n_head_kv = hp->n_head_kv;
    r->head_dim = hp->head_dim_k;
    r->n_ctx_train = hp->n_ctx_train ? hp->n_ctx_train : 2048;
    r->n_expert = hp->n_expert;
    r->n_expert_used = hp->n_expert_used;
    r->n_swa = hp->n_swa;
    r->mla_kv_width = umi_mem_mla_width(hp);
    uint64_t matmul_params = 0;
    mem_setup ms = {.hp = hp};
    account_tensors(&pm, r, &ms, p.n_parallel > 1, &matmul_params); /* serve --parallel: batch decoding */

    /* The context as `umi run` would make it. */
    r->n_ctx = p.n_ctx ? p.n_ctx : (r->n_ctx_train < 4096 ? r->n_ctx_train : 4096);
    r->n_parallel = p.n_parallel ? p.n_parallel : 1;
    r->kv_type = kv_name;
    /* The engine's ffn scratch also takes fused projections (context.c's hb_width). */
    size_t hb = 0;
    bool moe_only = true;
    for (size_t i = 0; i < pm.n; i++) {
        if (strstr(pm.t[i].name, ".ffn_up.weight")) moe_only = false;
        if ((strstr(pm.t[i].name, ".attn_qkv.weight") || strstr(pm.t[i].name, ".ffn_up.weight")) &&
            (size_t)pm.t[i].ne[1] > hb)
            hb = (size_t)pm.t[i].ne[1];
    }
    ms.mp = (umi_mem_params){.act_bytes = ms.mp.act_bytes, .n_batch = p.n_batch ? p.n_batch : 512,
                             .n_threads = p.n_threads > 0 ? p.n_threads : r->hw.cores > 0 ? r->hw.cores : 1,
                             .n_seq = r->n_parallel, .kv_type = kv_type,
                             .hb_width = hb,
                             .moe_only = moe_only};
    /* Runtime overhead: the process and its libraries (5.55 MiB resident
     * here: measured again as the kernels grew; a tiny model's peak RSS
     * moves by ~0.5 MiB with how much of the binary the page cache holds),
     * and the GGUF metadata (vocabulary strings, merges) with the
     * tables the tokenizer builds from it: 3.7x the metadata's bytes, as
     * measured with `umi bench` (peak RSS) on the llama-bpe, qwen2 and spm
     * vocabularies. */
    const uint64_t meta = pm.file_bytes > r->weight_bytes ? pm.file_bytes - r->weight_bytes : 0;
    r->overhead_bytes = (uint64_t)(5.55 * 1048576) + (uint64_t)(3.7 * (double)meta) + (uint64_t)pm.n * 256;
    /* A model with weights the loader may interleave (model/repack.c) also
     * maps the repack's code and kernels and keeps the file pages where
     * repacked tensors meet others: about 0.25 MiB more peak RSS with
     * `umi bench` on the small Q4_K_M and Q4_0 models. */
    bool repackable = false;
    for (size_t i = 0; i < pm.n; i++) repackable |= relaid(pm.t[i].type);
    if (repackable) r->overhead_bytes += 1048576 / 4;
    /* Read instead of mapped (--no-mmap), the whole file is in the process:
     * the untied embedding and the metadata's bytes too. */
    if (p.no_mmap) ms.fixed = pm.file_bytes > r->weight_bytes ? pm.file_bytes : r->weight_bytes;
    ms.fixed += r->overhead_bytes;
    umi_mem_layout lay;
    r->total_bytes = mem_total(&ms, r->n_ctx, &lay);
    r->kv_bytes = lay.kv_bytes;
    r->kv_bytes_per_token = r->n_ctx ? lay.kv_bytes / r->n_ctx : 0;
    r->compute_bytes = lay.scratch_bytes + lay.moe_bytes;

    r->budget_bytes = budget_bytes(&r->hw);
    r->headroom_bytes = (int64_t)r->budget_bytes - (int64_t)r->total_bytes;
    r->verdict = r->total_bytes > r->budget_bytes ? UMI_PLAN_NO_FIT
                 : r->headroom_bytes * 10 < (int64_t)r->budget_bytes ? UMI_PLAN_TIGHT
                                                                     : UMI_PLAN_FITS;
    /* Largest context that fits: memory grows monotonically with it. */
    if (mem_total(&ms, 1, NULL) <= r->budget_bytes) {
        uint32_t lo = 1, hi = r->n_ctx_train;
        while (lo < hi) {
            const uint32_t mid = lo + (hi - lo + 1) / 2;
            if (mem_total(&ms, mid, NULL) <= r->budget_bytes) lo = mid;
            else hi = mid - 1;
        }
        r->n_ctx_max = lo;
    }
    /* Apple: the wired limit that would hold it, keeping some memory for macOS
     * (4 GB up to 32 GB of RAM, 8 GB above). */
    if (strcmp(r->hw.kind, "apple") == 0 && r->verdict != UMI_PLAN_FITS) {
        const double mem = r->hw.mem_gb * 1e9;
        const double os = r->hw.mem_gb > 32 ? 8e9 : 4e9;
        const double want = r->total_bytes * 1.05;
        if (want + os <= mem) r->wired_limit_mb = (uint64_t)ceil(want / 1048576.0 / 1024.0) * 1024;
    }
    if (!p.memory_only) predict_speed(&p, &pm, &ms, matmul_params, r);
    free(pm.t);
    return UMI_OK;
}

/* ---------------------------------------------------------------- listings */

size_t umi_plan_catalog_count(void) { return umi_cat_n_models; }

bool umi_plan_catalog_get(size_t i, umi_plan_catalog_entry *out) {
    if (i >= umi_cat_n_models) return false;
    const umi_cat_model *c = &umi_cat_models[i];
    *out = (umi_plan_catalog_entry){.name = c->name, .title = c->title, .arch = c->arch,
                                    .tasks = c->tasks, .n_ctx_train = c->n_ctx_train};
    umi_cat_tensor *t = NULL;
    size_t n = 0;
    if (umi_cat_tensors(c, &t, &n, NULL) == UMI_OK) {
        const double used = c->n_expert ? (double)c->n_expert_used / c->n_expert : 1.0;
        double active = 0;
        for (size_t k = 0; k < n; k++) {
            const uint64_t nel = (uint64_t)(t[k].ne[0] * t[k].ne[1] * t[k].ne[2] * t[k].ne[3]);
            out->n_params += nel;
            active += nel * (t[k].expert ? used : 1.0);
        }
        out->n_params_active = (uint64_t)active;
        free(t);
    }
    return true;
}

size_t umi_plan_quant_count(void) { return UMI_FT_COUNT; }
const char *umi_plan_quant_name(size_t i) { return i < UMI_FT_COUNT ? umi_ftype_name((umi_ftype)i) : NULL; }

size_t umi_plan_hw_count(void) { return umi_hw_n_profiles; }

bool umi_plan_hw_get(size_t i, umi_plan_hw *out) {
    if (i >= umi_hw_n_profiles) return false;
    hw_from_profile(&umi_hw_profiles[i], out);
    return true;
}
