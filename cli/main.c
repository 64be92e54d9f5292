/* umi — the command-line front end. Each subcommand lives in its own file
 * and uses only the public API in include/umi.h. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} COMMANDS[] = {
    {"run", cmd_run, "generate text from a prompt"},
    {"info", cmd_info, "describe a GGUF model file"},
    {"perplexity", cmd_perplexity, "measure perplexity over a text file"},
    {"tokenize", cmd_tokenize, "show the tokens of a text"},
    {"chat", cmd_chat, "talk with a model in the terminal, using its chat template"},
    {"bench", cmd_bench, "measure prompt and generation speed and the memory roofline"},
    {"plan", cmd_plan, "predict memory and speed of a model on this or another machine"},
    {"template", cmd_template, "render a chat template with a test case's variables"},
    {"serve", cmd_serve, "serve models over HTTP (OpenAI and Ollama APIs)"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: umi <command> [options]   (umi <command> --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        fprintf(f, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(f, "\nWithout -m, commands use the bundled model models/stories260K.gguf.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("umi %s\n", UMI_VERSION_STRING);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0) return COMMANDS[i].fn(argc - 1, argv + 1);
    cli_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
