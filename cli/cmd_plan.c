/* umi plan: what a model needs and how fast it will run, before loading it —
 * for a GGUF file (header only), a catalog model at any quantization, on this
 * machine or on a hardware profile; the catalog listing; and advice on what
 * to run on a given machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"

static double gb(uint64_t b) { return (double)b / 1e9; }

/* ---------------------------------------------------------------- text output */

static void print_size(const char *label, uint64_t b, const char *note) {
    if (b >= 1000000000ull) printf("%-14s %8.2f GB%s\n", label, gb(b), note);
    else printf("%-14s %8.1f MB%s\n", label, b / 1e6, note);
}

static void print_plan(const umi_plan_result *r) {
    char buf[256];
    printf("%-14s %s", "model", r->model);
    if (r->quant[0]) printf("  (catalog, %s)", r->quant);
    printf("\n%-14s %s, %.2f B parameters", "architecture", r->arch, r->n_params / 1e9);
    if (r->n_expert)
        printf(" (%.2f B active: %u of %u experts)", r->n_params_active / 1e9, r->n_expert_used,
               r->n_expert);
    printf("\n");
    print_size(r->quant[0] ? "file (pred.)" : "file", r->file_bytes, "");
    print_size("weights", r->weight_bytes, "");
    for (int t = 0; t < UMI_MAX_TYPES; t++)
        if (r->type_bytes[t]) {
            snprintf(buf, sizeof buf, "  %s", umi_type_name(t));
            print_size(buf, r->type_bytes[t], "");
        }
    snprintf(buf, sizeof buf, "  (%u tokens x %u, %s%s%s)", r->n_ctx, r->n_parallel, r->kv_type,
             r->n_swa ? ", ring caches for sliding-window layers" : "", r->mla_kv_width ? ", MLA latent" : "");
    print_size("KV cache", r->kv_bytes, buf);
    print_size("compute", r->compute_bytes, "  (scratch for a 512-token batch)");
    print_size("overhead", r->overhead_bytes, "");
    print_size("total", r->total_bytes, "");
    printf("%-14s %s", "target", r->hw.title);
    if (strcmp(r->hw.kind, "cpu") == 0) printf(", %.1f GB available", r->hw.avail_gb);
    else printf(", GPU may use %.0f%%", r->hw.gpu_limit_pct);
    printf("\n");
    print_size("budget", r->budget_bytes, "");
    printf("%-14s %+8.2f GB  -> %s\n", "headroom", r->headroom_bytes / 1e9,
           umi_plan_verdict_name(r->verdict));
    if (r->n_ctx_max) printf("%-14s %u tokens (trained for %u)\n", "max context", r->n_ctx_max, r->n_ctx_train);
    else printf("%-14s none: the weights alone do not fit\n", "max context");
    if (r->wired_limit_mb)
        printf("%-14s sudo sysctl iogpu.wired_limit_mb=%llu  (raises the GPU limit; resets at reboot)\n",
               "apple", (unsigned long long)r->wired_limit_mb);
    printf("%-14s tg %.1f t/s (empty context), %.1f t/s (full); pp %.0f t/s (empty), %.0f t/s (full)"
           "  [%.1f GB/s%s, %.2f GB/token%s]\n",
           "speed", r->tg_tps, r->tg_tps_full, r->pp_tps, r->pp_tps_full, r->hw.bw_gbps,
           r->hw.bw_measured ? " measured" : "", gb(r->bytes_per_token),
           r->tg_measured_rates && r->pp_measured_rates ? ", decode and prompt rates measured per weight type"
           : r->tg_measured_rates                       ? ", decode rates measured per weight type"
                                                        : "");
}

/* ---------------------------------------------------------------- JSON output */

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static void json_plan(const umi_plan_result *r) {
    printf("{\"model\":");
    json_str(r->model);
    printf(",\"arch\":");
    json_str(r->arch);
    printf(",\"quant\":");
    json_str(r->quant);
    printf(",\"n_params\":%llu,\"n_params_active\":%llu,\"file_bytes\":%llu,\"weights_bytes\":%llu",
           (unsigned long long)r->n_params, (unsigned long long)r->n_params_active,
           (unsigned long long)r->file_bytes, (unsigned long long)r->weight_bytes);
    printf(",\"weights_by_type\":{");
    for (int t = 0, first = 1; t < UMI_MAX_TYPES; t++)
        if (r->type_bytes[t]) {
            printf("%s\"%s\":%llu", first ? "" : ",", umi_type_name(t), (unsigned long long)r->type_bytes[t]);
            first = 0;
        }
    printf("},\"n_layer\":%u,\"n_head_kv\":%u,\"head_dim\":%u,\"n_ctx_train\":%u", r->n_layer,
           r->n_head_kv, r->head_dim, r->n_ctx_train);
    printf(",\"n_ctx\":%u,\"n_parallel\":%u,\"kv_type\":\"%s\",\"n_swa\":%u,\"mla_kv_width\":%u",
           r->n_ctx, r->n_parallel, r->kv_type, r->n_swa, r->mla_kv_width);
    printf(",\"kv_bytes\":%llu,\"kv_bytes_per_token\":%llu,\"compute_bytes\":%llu,\"overhead_bytes\":%llu,"
           "\"total_bytes\":%llu",
           (unsigned long long)r->kv_bytes, (unsigned long long)r->kv_bytes_per_token,
           (unsigned long long)r->compute_bytes, (unsigned long long)r->overhead_bytes,
           (unsigned long long)r->total_bytes);
    printf(",\"hw\":{\"name\":");
    json_str(r->hw.name);
    printf(",\"title\":");
    json_str(r->hw.title);
    printf(",\"kind\":\"%s\",\"mem_gb\":%.2f,\"avail_gb\":%.2f,\"bw_gbps\":%.2f,\"bw_measured\":%s,"
           "\"tflops\":%.2f,\"gpu_limit_pct\":%.1f,\"cores\":%d}",
           r->hw.kind, r->hw.mem_gb, r->hw.avail_gb, r->hw.bw_gbps, r->hw.bw_measured ? "true" : "false",
           r->hw.tflops, r->hw.gpu_limit_pct, r->hw.cores);
    printf(",\"budget_bytes\":%llu,\"headroom_bytes\":%lld,\"verdict\":\"%s\",\"n_ctx_max\":%u,"
           "\"wired_limit_mb\":%llu",
           (unsigned long long)r->budget_bytes, (long long)r->headroom_bytes,
           umi_plan_verdict_name(r->verdict), r->n_ctx_max, (unsigned long long)r->wired_limit_mb);
    printf(",\"bytes_per_token\":%llu,\"tg_measured_rates\":%s,\"pp_measured_rates\":%s,\"tg_tps\":%.2f,\"tg_tps_full\":%.2f,"
           "\"pp_tps\":%.1f,\"pp_tps_full\":%.1f}\n",
           (unsigned long long)r->bytes_per_token, r->tg_measured_rates ? "true" : "false",
           r->pp_measured_rates ? "true" : "false", r->tg_tps,
           r->tg_tps_full, r->pp_tps, r->pp_tps_full);
}

/* ---------------------------------------------------------------- --list */

static int list_all(bool json) {
    umi_plan_catalog_entry e;
    umi_plan_hw h;
    if (json) {
        printf("{\"models\":[");
        for (size_t i = 0; umi_plan_catalog_get(i, &e); i++) {
            printf("%s{\"name\":\"%s\",\"title\":", i ? "," : "", e.name);
            json_str(e.title);
            printf(",\"arch\":\"%s\",\"tasks\":\"%s\",\"n_params\":%llu,\"n_params_active\":%llu,"
                   "\"n_ctx_train\":%u}",
                   e.arch, e.tasks, (unsigned long long)e.n_params, (unsigned long long)e.n_params_active,
                   e.n_ctx_train);
        }
        printf("],\"quants\":[");
        for (size_t i = 0; i < umi_plan_quant_count(); i++) printf("%s\"%s\"", i ? "," : "", umi_plan_quant_name(i));
        printf("],\"hardware\":[");
        for (size_t i = 0; umi_plan_hw_get(i, &h); i++) {
            printf("%s{\"name\":\"%s\",\"title\":", i ? "," : "", h.name);
            json_str(h.title);
            printf(",\"kind\":\"%s\",\"mem_gb\":%.0f,\"bw_gbps\":%.2f,\"gpu_limit_pct\":%.0f}", h.kind,
                   h.mem_gb, h.bw_gbps, h.gpu_limit_pct);
        }
        printf("]}\n");
        return EXIT_OK;
    }
    printf("models (umi plan --model NAME --quant TYPE):\n");
    for (size_t i = 0; umi_plan_catalog_get(i, &e); i++) {
        char params[48];
        if (e.n_params_active * 100 < e.n_params * 95)
            snprintf(params, sizeof params, "%.1fB (%.1fB active)", e.n_params / 1e9, e.n_params_active / 1e9);
        else snprintf(params, sizeof params, "%.1fB", e.n_params / 1e9);
        printf("  %-24s %-24s %-10s ctx %-7u %s\n", e.name, params, e.arch, e.n_ctx_train, e.tasks);
    }
    printf("\nquantizations:");
    for (size_t i = 0; i < umi_plan_quant_count(); i++) printf(" %s", umi_plan_quant_name(i));
    printf("\n\nhardware (--hw NAME; also 'this', or --mem GB --bw GBps --gpu-limit PCT):\n");
    for (size_t i = 0; umi_plan_hw_get(i, &h); i++)
        printf("  %-22s %-38s %6.0f GB/s  GPU limit %.0f%%\n", h.name, h.title, h.bw_gbps, h.gpu_limit_pct);
    return EXIT_OK;
}

/* ---------------------------------------------------------------- --advise */

typedef struct advice {
    const char *name, *title, *quant;
    umi_plan_result r;
    double score;
} advice;

/* Quality ranks more parameters first, then more bits per weight: below ~4
 * bits quality falls off quickly, above ~6 it barely moves. A mixture of
 * experts counts as the geometric mean of its total and active size. */
static double quality(const umi_plan_result *r) {
    const double bpw = r->n_params ? 8.0 * r->weight_bytes / r->n_params : 16;
    const double params = sqrt((double)r->n_params * (double)r->n_params_active);
    return log(params) * (1.0 - exp(-(bpw - 1.5) / 1.3));
}

static bool has_task(const char *tasks, const char *task) {
    if (!task || !*task) return true;
    const size_t n = strlen(task);
    for (const char *p = tasks; (p = strstr(p, task)) != NULL; p += n)
        if ((p == tasks || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return true;
    return false;
}

static int advise(const umi_plan_params *base, const char *task, float min_tps, bool json) {
    static const char *quants[] = {"Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "IQ3_XXS", "IQ2_M"};
    const size_t n_models = umi_plan_catalog_count();
    advice *best = calloc(n_models, sizeof *best);
    if (!best) {
        cli_error("out of memory");
        return EXIT_RUNTIME;
    }
    size_t n = 0;
    umi_plan_hw hw = {0};
    for (size_t i = 0; i < n_models; i++) {
        umi_plan_catalog_entry e;
        umi_plan_catalog_get(i, &e);
        /* Skip duplicates of a shape and models trained for less context than asked. */
        if (!has_task(e.tasks, task) || strstr(e.name, "-kv16") || e.n_ctx_train < base->n_ctx) continue;
        /* The highest-quality quantization of this model that fits with margin and speed. */
        for (size_t q = 0; q < sizeof quants / sizeof *quants; q++) {
            umi_plan_params p = *base;
            p.model_path = NULL;
            p.catalog = e.name;
            p.quant = quants[q];
            umi_plan_result r;
            umi_error err = {0};
            if (umi_plan_compute(&p, &r, &err) != UMI_OK) {
                cli_error("%s", err.msg);
                free(best);
                return EXIT_RUNTIME;
            }
            hw = r.hw;
            if (r.verdict != UMI_PLAN_FITS || r.tg_tps < min_tps) continue;
            best[n] = (advice){e.name, e.title, quants[q], r, quality(&r)};
            n++;
            break;
        }
    }
    for (size_t i = 1; i < n; i++) /* insertion sort by score, best first */
        for (size_t j = i; j > 0 && best[j].score > best[j - 1].score; j--) {
            advice t = best[j];
            best[j] = best[j - 1];
            best[j - 1] = t;
        }
    const size_t show = n < 12 ? n : 12;
    if (json) {
        printf("{\"hw\":\"%s\",\"task\":\"%s\",\"min_tps\":%.1f,\"choices\":[", hw.name, task ? task : "",
               min_tps);
        for (size_t i = 0; i < show; i++) {
            const umi_plan_result *r = &best[i].r;
            printf("%s{\"model\":\"%s\",\"quant\":\"%s\",\"n_ctx\":%u,\"total_bytes\":%llu,\"file_bytes\":%llu,"
                   "\"tg_tps\":%.2f,\"pp_tps\":%.1f,\"n_ctx_max\":%u}",
                   i ? "," : "", best[i].name, best[i].quant, r->n_ctx, (unsigned long long)r->total_bytes,
                   (unsigned long long)r->file_bytes, r->tg_tps, r->pp_tps, r->n_ctx_max);
        }
        printf("]}\n");
        free(best);
        return EXIT_OK;
    }
    printf("on %s (budget %.1f GB), context %u%s%s, at least %.1f t/s:\n", hw.title,
           n ? gb(best[0].r.budget_bytes) : 0.0, n ? best[0].r.n_ctx : base->n_ctx, task ? ", task " : "",
           task ? task : "", min_tps);
    if (!n) printf("  nothing in the catalog fits; try a shorter context (-c) or --kv-type q8_0\n");
    for (size_t i = 0; i < show; i++) {
        const umi_plan_result *r = &best[i].r;
        const double bpw = 8.0 * r->weight_bytes / r->n_params;
        printf("  %2zu. %-22s %-7s %6.1f GB  tg %5.1f t/s  pp %6.0f t/s  — %s at %.1f bits/weight, "
               "up to %u tokens of context\n",
               i + 1, best[i].name, best[i].quant, gb(r->total_bytes), r->tg_tps, r->pp_tps,
               r->n_expert ? "mixture of experts" : "dense", bpw, r->n_ctx_max);
    }
    free(best);
    return EXIT_OK;
}

/* ---------------------------------------------------------------- the command */

int cmd_plan(int argc, char **argv) {
    const char *path = NULL, *model = NULL, *quant = NULL, *kv = NULL, *hw = NULL, *task = NULL;
    int n_ctx = 0, parallel = 0, threads = 0, batch = 0;
    float mem = 0, bw = 0, gpu_limit = 0, min_tps = 0;
    bool json = false, list = false, adv = false, imatrix = false, no_mmap = false;
    const cli_opt opts[] = {
        {"model", 0, OPT_STR, &model, "NAME", "a catalog model (umi plan --list), or a GGUF file"},
        {"quant", 'q', OPT_STR, &quant, "TYPE", "quantization of a catalog model (default Q4_K_M)"},
        {"imatrix", 0, OPT_FLAG, &imatrix, NULL, "the catalog model was quantized with an importance matrix"},
        {"ctx-size", 'c', OPT_INT, &n_ctx, "N", "context per sequence (default: the model's, at most 4096)"},
        {"parallel", 0, OPT_INT, &parallel, "N", "sequences served at once, each with its own cache"},
        {"kv-type", 0, OPT_STR, &kv, "T", "KV cache type: f16 (default), q8_0, q4_0"},
        {"batch", 'b', OPT_INT, &batch, "N", "prompt tokens per forward chunk (default 512)"},
        {"threads", 't', OPT_INT, &threads, "N", "threads (default: physical cores)"},
        {"no-mmap", 0, OPT_FLAG, &no_mmap, NULL, "plan a load that reads the file into memory (umi run --no-mmap)"},
        {"hw", 0, OPT_STR, &hw, "PROFILE", "target hardware (default: this machine; see --list)"},
        {"mem", 0, OPT_FLOAT, &mem, "GB", "memory to plan for (overrides the profile or detection)"},
        {"bw", 0, OPT_FLOAT, &bw, "GBPS", "memory bandwidth in GB/s (overrides)"},
        {"gpu-limit", 0, OPT_FLOAT, &gpu_limit, "PCT", "share of memory the GPU may use"},
        {"json", 0, OPT_FLAG, &json, NULL, "print JSON"},
        {"list", 0, OPT_FLAG, &list, NULL, "list catalog models, quantizations and hardware profiles"},
        {"advise", 0, OPT_FLAG, &adv, NULL, "rank catalog models x quantizations that fit the target"},
        {"task", 0, OPT_STR, &task, "T", "with --advise: chat, code, reasoning or creative"},
        {"min-tps", 0, OPT_FLOAT, &min_tps, "N", "with --advise: slowest acceptable decode speed"},
    };
    const cli_cmd cmd = {
        "umi plan [MODEL.gguf | --model NAME [--quant TYPE]] [-c CTX] [--parallel N] [--kv-type T]\n"
        "                [--hw PROFILE | --mem GB --bw GBPS --gpu-limit PCT] [--json] | --list | --advise",
        "Predict memory (weights, KV cache, compute buffers, overhead), whether it fits, the largest\n"
        "context that fits, and decode/prompt speed — from a GGUF header (weights are not read) or a\n"
        "catalog model at any quantization, on this machine or a hardware profile. Sizes in GB (1e9).",
        opts, (int)(sizeof opts / sizeof *opts), &path, "MODEL.gguf"};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (n_ctx < 0 || parallel < 0 || threads < 0 || batch < 0 || mem < 0 || bw < 0 || gpu_limit < 0 ||
        gpu_limit > 100) {
        cli_error("-c, --parallel, -t, -b, --mem, --bw must not be negative; --gpu-limit is 0..100");
        return EXIT_USAGE;
    }
    if (list) return list_all(json);

    umi_plan_params p = umi_plan_default_params();
    /* --model takes a catalog name, or a file when one exists by that name. */
    if (model && !path && access(model, R_OK) == 0) path = model, model = NULL;
    p.model_path = path;
    p.catalog = model;
    if (quant) p.quant = quant;
    p.imatrix = imatrix;
    p.n_ctx = (uint32_t)n_ctx;
    p.n_parallel = (uint32_t)parallel;
    p.n_batch = (uint32_t)batch;
    p.n_threads = threads;
    p.kv_type = kv;
    p.no_mmap = no_mmap;
    p.hw = hw;
    p.mem_gb = mem;
    p.bw_gbps = bw;
    p.gpu_limit_pct = gpu_limit;
    if (adv) {
        if (!p.n_ctx) p.n_ctx = 8192;
        return advise(&p, task, min_tps, json);
    }
    if (!path && !model) {
        cli_error("give a GGUF file or --model NAME (umi plan --list shows the catalog)");
        return EXIT_USAGE;
    }
    umi_plan_result r;
    umi_error err = {0};
    if (umi_plan_compute(&p, &r, &err) != UMI_OK) {
        cli_error("%s", err.msg);
        return err.code == UMI_ERR_ARG ? EXIT_USAGE : EXIT_RUNTIME;
    }
    if (json) json_plan(&r);
    else print_plan(&r);
    return EXIT_OK;
}
