/* A short fuzz of the chat-template engine, run in CI (and under ASan):
 * every shared template, mutated many times (bytes flipped, spans deleted
 * or duplicated, tag delimiters inserted), is parsed and rendered with a
 * conversation. Errors are fine; crashes, hangs and leaks are not (the
 * sanitizer pass catches those). Prints "N passed, 0 failed". */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"

enum { MUTANTS_PER_TEMPLATE = 300 };

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t next(void) { /* xorshift64 */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const SNIPPETS[] = {"{%", "%}", "{{", "}}", "{#", "#}", "-", "(", ")", "[", "]",
                                       "'", "\"", " if ", " for ", "endfor", "endif", "|", ".", ","};

/* One random edit of buf[0..*n) in place (capacity cap). */
static void mutate(char *buf, size_t *n, size_t cap) {
    if (*n == 0) return;
    const size_t at = next() % *n;
    switch (next() % 4) {
    case 0: buf[at] = (char)(next() & 0x7f); break;
    case 1: { /* delete a span */
        size_t len = next() % 16;
        if (at + len > *n) len = *n - at;
        memmove(buf + at, buf + at + len, *n - at - len);
        *n -= len;
        break;
    }
    case 2: { /* duplicate a span */
        size_t len = next() % 32;
        if (at + len > *n) len = *n - at;
        if (*n + len > cap) break;
        memmove(buf + at + len, buf + at, *n - at);
        *n += len;
        break;
    }
    default: { /* insert a Jinja delimiter or keyword */
        const char *s = SNIPPETS[next() % (sizeof SNIPPETS / sizeof *SNIPPETS)];
        const size_t len = strlen(s);
        if (*n + len > cap) break;
        memmove(buf + at + len, buf + at, *n - at);
        memcpy(buf + at, s, len);
        *n += len;
    }
    }
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/templates/jinja", argv[2]);
    DIR *d = opendir(dir);
    if (!d) {
        printf("cannot open %s\n0 passed, 1 failed\n", dir);
        return 1;
    }
    cJSON *vars = cJSON_Parse(
        "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\","
        "\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello\"},{\"role\":\"user\","
        "\"content\":\"Bye\"}],\"add_generation_prompt\":true,\"bos_token\":\"<s>\","
        "\"eos_token\":\"</s>\",\"tools\":null}");
    long runs = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".jinja")) continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        static char src[1 << 17], buf[1 << 18];
        const size_t n_src = fread(src, 1, sizeof src, f);
        fclose(f);
        for (int k = 0; k < MUTANTS_PER_TEMPLATE; k++) {
            size_t n = n_src;
            memcpy(buf, src, n);
            for (int edits = 1 + (int)(next() % 4); edits > 0; edits--) mutate(buf, &n, sizeof buf);
            umi_chat_template *t = NULL;
            umi_error err;
            if (umi_chat_template_parse(buf, n, &t, &err) == UMI_OK) {
                char *out = NULL;
                umi_chat_template_render(t, vars, 0, &out, &err);
                free(out);
                umi_chat_template_free(t);
            }
            runs++;
        }
    }
    closedir(d);
    cJSON_Delete(vars);
    printf("%ld mutated templates parsed and rendered without a crash\n%ld passed, 0 failed\n", runs,
           runs);
    return runs > 0 ? 0 : 1;
}
