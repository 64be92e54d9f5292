/* umi info: what a GGUF file holds, without running it. */
#include <stdio.h>

#include "args.h"
#include "commands.h"

static void print_bytes(const char *label, uint64_t b) {
    if (b >= (1ull << 30)) printf("%-22s %.2f GiB (%llu bytes)\n", label, b / 1073741824.0, (unsigned long long)b);
    else printf("%-22s %.2f MiB (%llu bytes)\n", label, b / 1048576.0, (unsigned long long)b);
}

static void print_count(const char *label, uint64_t n) {
    if (n >= 1000000000ull) printf("%-22s %.2f B (%llu)\n", label, n / 1e9, (unsigned long long)n);
    else if (n >= 1000000ull) printf("%-22s %.2f M (%llu)\n", label, n / 1e6, (unsigned long long)n);
    else printf("%-22s %.1f K (%llu)\n", label, n / 1e3, (unsigned long long)n);
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    bool no_mmap = false;
    const cli_opt opts[] = {
        {"model", 'm', OPT_STR, &path, "FILE", "GGUF model (or give it as the argument)"},
        {"no-mmap", 0, OPT_FLAG, &no_mmap, NULL, "read the file instead of mapping it"},
    };
    const cli_cmd cmd = {"umi info [MODEL]",
                         "Print a GGUF model's architecture, size, tensor types and settings.",
                         opts, (int)(sizeof opts / sizeof *opts), &path, "MODEL"};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!path) path = cli_default_model();

    umi_model *m = NULL;
    umi_model_params mp = umi_model_default_params();
    mp.use_mmap = !no_mmap;
    mp.info_only = true;
    umi_error err = {0};
    if (umi_model_load(path, &mp, &m, &err) != UMI_OK) {
        cli_error("%s", err.msg);
        return EXIT_RUNTIME;
    }
    umi_model_info in;
    umi_model_get_info(m, &in);
    printf("%-22s %s\n", "file", path);
    printf("%-22s %s\n", "architecture", in.arch);
    if (in.name[0]) printf("%-22s %s\n", "name", in.name);
    printf("%-22s %u\n", "gguf version", in.gguf_version);
    print_bytes("file size", in.file_bytes);
    print_count("parameters", in.n_params);
    printf("%-22s %llu\n", "tensors", (unsigned long long)in.n_tensors);
    for (int t = 0; t < UMI_MAX_TYPES; t++) {
        if (!in.type_count[t]) continue;
        char label[64];
        snprintf(label, sizeof label, "  %s (%llu)", umi_type_name(t), (unsigned long long)in.type_count[t]);
        print_bytes(label, in.type_bytes[t]);
    }
    printf("%-22s %u tokens\n", "context length", in.n_ctx_train);
    printf("%-22s %u\n", "embedding", in.n_embd);
    printf("%-22s %u\n", "layers", in.n_layer);
    if (in.kv_lora_rank)
        printf("%-22s %u (MLA: one shared latent), head dim %u\n", "heads", in.n_head, in.head_dim);
    else
        printf("%-22s %u (kv %u), head dim %u\n", "heads", in.n_head, in.n_head_kv, in.head_dim);
    printf("%-22s %u\n", "feed-forward", in.n_ff);
    if (in.n_expert) {
        printf("%-22s %u total, %u active per token, width %u", "experts", in.n_expert,
               in.n_expert_used, in.n_ff_exp);
        if (in.n_expert_shared) printf(", %u shared", in.n_expert_shared);
        printf("\n");
        print_count("active parameters", in.n_params_active);
    }
    printf("%-22s %s, %u dims, base %.0f, scale %g", "rope", in.rope_type, in.rope_dim, in.rope_freq_base,
           in.rope_freq_scale);
    if (in.rope_orig_ctx) printf("; LongRoPE factors (long beyond %u tokens of context)", in.rope_orig_ctx);
    printf("\n");
    if (in.kv_lora_rank)
        printf("%-22s %llu bytes (f16 MLA latent %u + rope %u, all layers)\n", "kv cache per token",
               (unsigned long long)in.kv_bytes_per_token, in.kv_lora_rank, in.rope_dim);
    else
        printf("%-22s %llu bytes (f16 K+V, all layers)\n", "kv cache per token",
               (unsigned long long)in.kv_bytes_per_token);
    if (in.n_swa_layers)
        printf("%-22s %u of %u layers attend to the last %u tokens only: past that, %llu bytes per token\n",
               "sliding window", in.n_swa_layers, in.n_layer, in.n_swa,
               (unsigned long long)in.kv_bytes_per_token_past_window);
    printf("%-22s %s, %u tokens\n", "tokenizer", in.tokenizer[0] ? in.tokenizer : "(none)", in.n_vocab);
    printf("%-22s %s\n", "chat template", in.has_chat_template ? "yes" : "no");
    umi_model_free(m);
    return EXIT_OK;
}
