/* umi serve: an OpenAI- and Ollama-compatible HTTP server (src/serve/). This
 * file only turns options into a serve_config; docs/SERVER.md describes the API. */
#include <stdio.h>
#include <sys/stat.h>
#include <strings.h>

#include "args.h"
#include "commands.h"
#include "serve.h"

int cmd_serve(int argc, char **argv) {
    const char *model = NULL, *models_dir = NULL, *host = "127.0.0.1", *api_key = NULL, *port_file = NULL,
               *kv_type = NULL;
    const char *keep_alive = "5m", *slot_save_path = NULL;
    int port = 8080, parallel = 1, n_ctx = 0, threads = 0, n_predict = -1, max_body_mb = 16, max_models = 0;
    bool verbose = false, force = false, no_repack = false, repack_q8 = false;
    float mem_gb = 0;
    const cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, "FILE", "serve this GGUF (pinned; its name is the file name without .gguf)"},
        {"models-dir", 0, OPT_STR, &models_dir, "DIR", "serve every *.gguf in DIR by name, loaded on first use"},
        {"host", 0, OPT_STR, &host, "ADDR", "IPv4 address to bind (default 127.0.0.1)"},
        {"port", 0, OPT_INT, &port, "N", "TCP port (default 8080; 0 = any free port)"},
        {"api-key", 0, OPT_STR, &api_key, "KEY", "require Authorization: Bearer KEY (all but /health)"},
        {"parallel", 0, OPT_INT, &parallel, "N", "slots per model, each with the full context (default 1)"},
        {"ctx-size", 'c', OPT_INT, &n_ctx, "N", "context per slot (default: min(model, 4096))"},
        {"threads", 't', OPT_INT, &threads, "N", "threads per context (default: physical cores)"},
        {"kv-type", 0, OPT_STR, &kv_type, "T", CLI_KV_TYPE_HELP},
        {"n-predict", 'n', OPT_INT, &n_predict, "N", "default generation limit (default -1: until the context is full)"},
        {"max-body", 0, OPT_INT, &max_body_mb, "MB", "request body limit in MiB (default 16)"},
        {"port-file", 0, OPT_STR, &port_file, "FILE", "write the bound port to FILE once listening"},
        {"verbose", 'v', OPT_FLAG, &verbose, NULL, "log every request on stderr"},
        {"keep-alive", 0, OPT_STR, &keep_alive, "DUR", "unload a model idle this long (\"5m\", \"30s\", \"1h\", seconds; "
                                                        "negative = never; default 5m; -m models: never)"},
        {"max-models", 0, OPT_INT, &max_models, "N", "models loaded at once; idle ones are unloaded LRU (default 0: no limit)"},
        {"mem-budget", 0, OPT_FLOAT, &mem_gb, "GB", "memory all loaded models may use; idle ones are unloaded LRU "
                                                    "(default: available now less 10%)"},
        {"mem", 0, OPT_FLOAT, &mem_gb, "GB", "the same as --mem-budget"},
        {"slot-save-path", 0, OPT_STR, &slot_save_path, "DIR", "enable POST /slots/{id}?action=save|restore with files in DIR"},
        {"force", 0, OPT_FLAG, &force, NULL, "load models even when the planner says they will not fit"},
        {"no-repack", 0, OPT_FLAG, &no_repack, NULL, CLI_NO_REPACK_HELP},
        {"repack-q8", 0, OPT_FLAG, &repack_q8, NULL, CLI_REPACK_Q8_HELP},
    };
    const cli_cmd cmd = {"umi serve [-m MODEL] [--models-dir DIR] [--host ADDR] [--port N] [options]",
                         "Serve models over HTTP with OpenAI (/v1/...) and Ollama (/api/...) endpoints "
                         "until interrupted. Without -m or --models-dir, the bundled model is served.",
                         opts, (int)(sizeof opts / sizeof *opts), NULL, NULL};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (port < 0 || port > 65535) { cli_error("--port %d is not a TCP port", port); return EXIT_USAGE; }
    if (parallel < 1 || parallel > 256) { cli_error("--parallel must be 1..256"); return EXIT_USAGE; }
    if (n_ctx < 0) { cli_error("--ctx-size must not be negative"); return EXIT_USAGE; }
    /* Contexts are made per request; a misspelt type should fail now, not then. */
    if (kv_type && strcasecmp(kv_type, "f16") && strcasecmp(kv_type, "q8_0") && strcasecmp(kv_type, "q4_0")) {
        cli_error("unknown --kv-type '%s' (f16, q8_0, q4_0)", kv_type);
        return EXIT_USAGE;
    }
    if (max_body_mb < 1) { cli_error("--max-body must be at least 1 MiB"); return EXIT_USAGE; }
    if (max_models < 0) { cli_error("--max-models must not be negative"); return EXIT_USAGE; }
    int64_t keep_alive_ms = 0;
    if (!keep_alive_parse(keep_alive, &keep_alive_ms)) {
        cli_error("--keep-alive '%s' is not a duration (\"5m\", \"30s\", \"1h\", seconds, -1)", keep_alive);
        return EXIT_USAGE;
    }
    struct stat st;
    if (slot_save_path && (stat(slot_save_path, &st) != 0 || !S_ISDIR(st.st_mode))) {
        cli_error("--slot-save-path %s is not a directory", slot_save_path);
        return EXIT_USAGE;
    }
    if (!model && !models_dir) model = cli_default_model();
    serve_config cfg = {
        .host = host, .port = port, .model_files = model ? &model : NULL, .n_model_files = model ? 1 : 0,
        .models_dir = models_dir, .api_key = api_key && api_key[0] ? api_key : NULL,
        .max_body = (size_t)max_body_mb << 20, .n_parallel = parallel, .n_ctx = n_ctx,
        .n_threads = threads, .kv_type = kv_type, .n_predict = n_predict, .port_file = port_file,
        .verbose = verbose, .mem_gb = mem_gb, .force = force, .keep_alive_ms = keep_alive_ms,
        .max_models = max_models, .slot_save_path = slot_save_path, .no_repack = no_repack,
        .repack_q8_0 = repack_q8,
    };
    return serve_run(&cfg) == 0 ? EXIT_OK : EXIT_RUNTIME;
}
