/* The subcommands; each takes argv starting at its own name and returns an
 * exit code from args.h. */
#ifndef UMI_CLI_COMMANDS_H
#define UMI_CLI_COMMANDS_H

#define UMI_VERSION_STRING "0.1.0"

int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Shared by commands that run the model: load it and create a context,
 * printing a one-line error on failure. Returns EXIT_OK or EXIT_RUNTIME. */
#include "umi.h"
/* repack_q8_0: also interleave Q8_0 weights (umi_model_params.repack_q8_0), when repack. */
int cli_load_model(const char *path, bool use_mmap, bool repack, bool repack_q8_0, bool vocab_only,
                   umi_model **model);
int cli_make_context(umi_model *model, int n_ctx, int n_batch, int n_threads, const char *kv_type,
                     umi_context **ctx);
/* Refuse (EXIT_RUNTIME, with numbers and suggestions) when the planner says
 * the model and an n_ctx context (KV cache of kv_type, NULL = f16) do not fit
 * in memory; mem_gb > 0 replaces the detected budget; force skips the refusal. */
int cli_guard(const char *path, int n_ctx, int n_batch, const char *kv_type, bool force, double mem_gb,
              bool no_mmap);
/* The --kv-type option's help, shared by the commands that take it. */
#define CLI_KV_TYPE_HELP "KV cache type: f16 (default), q8_0, q4_0 (quantized: head dims % 32 == 0)"
#define CLI_BATCH_HELP "prompt tokens per forward pass (default 512; larger: faster long prompts, more scratch memory)"
#define CLI_NO_REPACK_HELP "keep weights in the file's layout (default: Q4_0/IQ4_NL/Q4_K/Q6_K are interleaved at load where the CPU has a faster kernel for it; same memory)"
#define CLI_REPACK_Q8_HELP "also interleave Q8_0 weights (AVX-512 VNNI): prompts ~2x faster; blocks are summed exactly, so results differ from the reference's in the last bits"

#endif
