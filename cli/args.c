#include "args.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_error(const char *fmt, ...) {
    const bool tty = isatty(fileno(stderr));
    fputs(tty ? "\033[1;31mumi:\033[0m " : "umi: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void print_help(const cli_cmd *cmd) {
    printf("usage: %s\n\n%s\n\noptions:\n", cmd->usage, cmd->summary);
    for (int i = 0; i < cmd->n_opts; i++) {
        const cli_opt *o = &cmd->opts[i];
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        printf("  %-28s %s\n", left, o->help);
    }
    printf("  %-28s %s\n", "-h, --help", "show this help and exit");
}

static int set_value(const cli_opt *o, const char *v) {
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case OPT_STR: *(const char **)o->dst = v; return 0;
    case OPT_INT: {
        long x = strtol(v, &end, 10);
        if (errno || *end || end == v || x < INT_MIN || x > INT_MAX) break;
        *(int *)o->dst = (int)x;
        return 0;
    }
    case OPT_U64: {
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || *end || end == v || v[0] == '-') break;
        *(uint64_t *)o->dst = x;
        return 0;
    }
    case OPT_FLOAT: {
        float x = strtof(v, &end);
        if (errno || *end || end == v) break;
        *(float *)o->dst = x;
        return 0;
    }
    case OPT_FLAG: return 0;
    }
    cli_error("--%s: '%s' is not a valid %s", o->name, v,
              o->kind == OPT_FLOAT ? "number" : "integer");
    return -1;
}

static const cli_opt *find_opt(const cli_cmd *cmd, const char *arg, size_t len, char short_name) {
    for (int i = 0; i < cmd->n_opts; i++) {
        const cli_opt *o = &cmd->opts[i];
        if (short_name ? o->short_name == short_name
                       : strlen(o->name) == len && strncmp(o->name, arg, len) == 0)
            return o;
    }
    return NULL;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_help(cmd);
            return EXIT_OK;
        }
        const cli_opt *o = NULL;
        const char *inline_val = NULL;
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            o = find_opt(cmd, a + 2, len, 0);
            if (eq) inline_val = eq + 1;
        } else if (a[0] == '-' && a[1] && !a[2]) {
            o = find_opt(cmd, NULL, 0, a[1]);
        } else if (cmd->positional && !*cmd->positional) {
            *cmd->positional = a;
            continue;
        } else {
            cli_error("unexpected argument '%s' (see --help)", a);
            return EXIT_USAGE;
        }
        if (!o) {
            cli_error("unknown option '%s' (see --help)", a);
            return EXIT_USAGE;
        }
        if (o->kind == OPT_FLAG) {
            if (inline_val) {
                cli_error("--%s takes no value", o->name);
                return EXIT_USAGE;
            }
            *(bool *)o->dst = true;
            continue;
        }
        const char *v = inline_val;
        if (!v) {
            if (i + 1 >= argc) {
                cli_error("--%s needs a value (%s)", o->name, o->metavar ? o->metavar : "value");
                return EXIT_USAGE;
            }
            v = argv[++i];
        }
        if (set_value(o, v) != 0) return EXIT_USAGE;
    }
    return -1;
}

const char *cli_default_model(void) {
    static char path[4200];
    const char *env = getenv("UMI_MODEL");
    if (env && *env) return env;
    const char *local = "models/stories260K.gguf";
    if (access(local, R_OK) == 0) return local;
    /* build/umi -> ../models/stories260K.gguf */
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/../models/stories260K.gguf", exe);
            if (access(path, R_OK) == 0) return path;
        }
    }
    return local;
}

char *cli_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    const bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}
