/* Command-line option parsing shared by the subcommands: a table of options
 * per command, GNU-style long options (--name value, --name=value), short
 * aliases, --help generated from the table. */
#ifndef UMI_CLI_ARGS_H
#define UMI_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes every subcommand uses. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

typedef enum { OPT_STR, OPT_INT, OPT_U64, OPT_FLOAT, OPT_FLAG } opt_kind;

typedef struct cli_opt {
    const char *name;    /* long name without dashes */
    char short_name;     /* 0 if none */
    opt_kind kind;
    void *dst;           /* const char **, int *, uint64_t *, float *, bool * */
    const char *metavar; /* for help; NULL for flags */
    const char *help;
} cli_opt;

typedef struct cli_cmd {
    const char *usage;   /* "umi run [options]" */
    const char *summary; /* one paragraph */
    const cli_opt *opts;
    int n_opts;
    const char **positional; /* where a single positional argument goes (may be NULL) */
    const char *positional_name;
} cli_cmd;

/* Parse argv (argv[0] is the subcommand name). Returns -1 to continue,
 * EXIT_OK after printing --help, or EXIT_USAGE after printing an error. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv);

/* Print "umi: <msg>" on stderr, in red on a terminal. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The bundled demo model: $UMI_MODEL, ./models/stories260K.gguf, or the copy
 * beside the executable's source tree. Never NULL. */
const char *cli_default_model(void);

/* A whole file, NUL-terminated (*len bytes when len is not NULL); NULL when
 * it cannot be read or memory runs out. The caller frees it. */
char *cli_read_file(const char *path, size_t *len);

#endif
