/* The planner's per-tensor type choices against files the reference
 * quantizer actually wrote: every quantized rnd-* model in ../shared/models
 * was made by llama-quantize from its F32 twin, so applying umi_quant_mix for
 * the same file type to the F32 tensor table must give each tensor exactly
 * the type it has in the quantized file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "plan/plan.h"
#include "quant/quant.h"
#include "testkit.h"

/* Compare one quantized file; returns the number of mismatching tensors. */
static int check_file(const char *shared, const char *file, const char *ftype) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s", shared, file);
    umi_gguf *g = NULL;
    umi_error err = {0};
    if (umi_gguf_open(path, true, &g, &err) != UMI_OK) {
        printf("skip %s: %s\n", file, err.msg);
        return 0;
    }
    char arch[64];
    umi_gguf_get_cstr(g, "general.architecture", arch, sizeof arch);
    umi_cat_model m = {.name = file, .title = file, .arch = arch};
    m.n_layer = umi_gguf_arch_u32(g, arch, "block_count");
    m.n_head = umi_gguf_arch_u32(g, arch, "attention.head_count");
    m.n_head_kv = umi_gguf_arch_u32(g, arch, "attention.head_count_kv");
    m.n_expert = umi_gguf_arch_u32(g, arch, "expert_count");
    m.n_embd = umi_gguf_arch_u32(g, arch, "embedding_length");
    umi_cat_tensor *t = xmalloc(g->n_tensors * sizeof *t);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const umi_gguf_tensor *gt = &g->tensors[i];
        memset(&t[i], 0, sizeof t[i]);
        snprintf(t[i].name, sizeof t[i].name, "%s", gt->name);
        t[i].n_dims = (int)gt->n_dims;
        memcpy(t[i].ne, gt->ne, sizeof t[i].ne);
        t[i].type = UMI_TYPE_F32; /* the twin it was quantized from */
        t[i].layer = sscanf(gt->name, "blk.%d.", &t[i].layer) == 1 ? t[i].layer : -1;
        t[i].expert = gt->ne[2] > 1 && strstr(gt->name, "_exps") != NULL;
    }
    const int ft = umi_ftype_parse(ftype);
    int bad = 0;
    if (ft < 0) {
        printf("FAIL %s: unknown file type %s\n", file, ftype);
        bad = 1;
    } else {
        umi_quant_mix(&m, (umi_ftype)ft, false, t, g->n_tensors);
        for (uint64_t i = 0; i < g->n_tensors; i++)
            if (t[i].type != g->tensors[i].type) {
                printf("FAIL %s: %s is %s in the file, planned %s\n", file, t[i].name,
                       umi_type_ggml_name(g->tensors[i].type), umi_type_ggml_name(t[i].type));
                bad++;
            }
        printf("%s %s: %llu tensors, %d differ\n", bad ? "FAIL" : "ok  ", file,
               (unsigned long long)g->n_tensors, bad);
    }
    free(t);
    umi_gguf_close(g);
    return bad;
}

int main(int argc, char **argv) {
    const char *shared = argc > 2 ? argv[2] : "../shared";
    /* rnd-<arch>-<file type>.gguf, the file type as llama-quantize names it. */
    static const char *const files[][2] = {
        {"rnd-llama-q8_0.gguf", "Q8_0"},     {"rnd-llama-q4_0.gguf", "Q4_0"},
        {"rnd-llama-q4_1.gguf", "Q4_1"},     {"rnd-llama-q5_0.gguf", "Q5_0"},
        {"rnd-llama-q5_1.gguf", "Q5_1"},     {"rnd-llama-q2_k.gguf", "Q2_K"},
        {"rnd-llama-q3_k_m.gguf", "Q3_K_M"}, {"rnd-llama-q4_k_m.gguf", "Q4_K_M"},
        {"rnd-llama-q5_k_m.gguf", "Q5_K_M"}, {"rnd-llama-q6_k.gguf", "Q6_K"},
        {"rnd-llama-iq4_nl.gguf", "IQ4_NL"}, {"rnd-llama-iq4_xs.gguf", "IQ4_XS"},
        {"rnd-qwen2-q8_0.gguf", "Q8_0"},     {"rnd-qwen2-q4_k_m.gguf", "Q4_K_M"},
        {"rnd-moe-q8_0.gguf", "Q8_0"},       {"rnd-moe-q4_k_m.gguf", "Q4_K_M"},
        {"rnd-qwen3-q8_0.gguf", "Q8_0"},     {"rnd-qwen3moe-q8_0.gguf", "Q8_0"},
        {"rnd-gemma2-q8_0.gguf", "Q8_0"},    {"rnd-phi3-q8_0.gguf", "Q8_0"},
        {"rnd-deepseek2-q8_0.gguf", "Q8_0"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) bad += check_file(shared, files[i][0], files[i][1]);
    return bad ? 1 : 0;
}
