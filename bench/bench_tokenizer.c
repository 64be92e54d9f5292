/* bench_tokenizer.c — tokenizer speed sanity check (not a test: prints numbers).
 *
 * Usage: bench_tokenizer [vocab.gguf] [text file]
 * Defaults (run from the project root): the SPM, byte-level BPE and
 * WordPiece vocabs in ../shared/vocab/ (llama-spm, llama-bpe, qwen2, gpt-2,
 * bert-bge) and ../shared/text/gpl3-head.txt.
 *
 * Tokenizes the text repeated to 64 KiB, 256 KiB and 1 MiB as one string.
 * SPM has no pre-splitting, so each size is a single merge problem; BPE
 * pre-splits into words with PCRE2 and merges per word. Either way the time
 * per byte should stay flat as the size grows (the merge loops are heaps,
 * not rescans); 1 MiB of English should take well under a second. Also
 * times a pathological input (one repeated character: a single 1 MiB word
 * for BPE) and detokenizing the result.
 *
 * Built with the project: `make && ./build/bench_tokenizer`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf/gguf.h"
#include "tokenizer/vocab.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Tokenize text[0, len) `reps` times; prints MB/s and tokens. */
static void run(const umi_vocab *v, const char *label, const char *text, size_t len, int reps) {
    int32_t n = -umi_vocab_tokenize(v, text, len, NULL, 0, true, false);
    if (n <= 0) {
        printf("%-28s tokenize failed\n", label);
        return;
    }
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    if (!ids) {
        return;
    }
    double t0 = now_s();
    for (int r = 0; r < reps; r++) {
        umi_vocab_tokenize(v, text, len, ids, n, true, false);
    }
    double dt = (now_s() - t0) / reps;

    int32_t n_chars = -umi_vocab_detokenize(v, ids, n, NULL, 0, true, false);
    char *out = malloc(n_chars > 0 ? (size_t)n_chars : 1);
    double t1 = now_s();
    if (out) {
        umi_vocab_detokenize(v, ids, n, out, n_chars, true, false);
    }
    double dt_detok = now_s() - t1;

    printf("%-28s %8zu bytes %8d tokens  %7.2f ms  %6.1f MB/s  (%.1f ns/byte)  detok %.2f ms\n",
           label, len, n, dt * 1e3, (double)len / dt / 1e6, dt * 1e9 / (double)len,
           dt_detok * 1e3);
    free(out);
    free(ids);
}

static void bench_vocab(const char *vocab_path, const char *base, size_t base_len) {
    umi_error err = {0};
    umi_gguf *g = NULL;
    umi_vocab *v = NULL;
    double t0 = now_s();
    if (umi_gguf_open(vocab_path, true, &g, &err) != UMI_OK ||
        umi_vocab_load(g, &v, &err) != UMI_OK) {
        fprintf(stderr, "%s: %s\n", vocab_path, err.msg);
        umi_gguf_close(g);
        return;
    }
    umi_gguf_close(g);
    printf("vocab %s: %d tokens, loaded in %.1f ms\n", vocab_path, umi_vocab_n_tokens(v),
           (now_s() - t0) * 1e3);

    const size_t max_len = 1u << 20;
    char *big = malloc(max_len);
    if (!big) {
        umi_vocab_free(v);
        return;
    }
    for (size_t i = 0; i < max_len; i++) {
        big[i] = base[i % base_len];
    }
    run(v, "text 64 KiB", big, 64u << 10, 20);
    run(v, "text 256 KiB", big, 256u << 10, 5);
    run(v, "text 1 MiB", big, max_len, 2);

    memset(big, 'a', max_len);
    run(v, "'aaaa...' 256 KiB", big, 256u << 10, 3);
    run(v, "'aaaa...' 1 MiB", big, max_len, 1);
    printf("\n");
    free(big);
    umi_vocab_free(v);
}

int main(int argc, char **argv) {
    const char *text_path = argc > 2 ? argv[2] : "../shared/text/gpl3-head.txt";
    size_t base_len = 0;
    char *base = read_file(text_path, &base_len);
    if (!base) {
        fprintf(stderr, "cannot read %s\n", text_path);
        return 1;
    }
    if (argc > 1) {
        bench_vocab(argv[1], base, base_len);
    } else {
        static const char *const names[] = {"llama-spm", "llama-bpe", "qwen2", "gpt-2", "bert-bge"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char path[256];
            snprintf(path, sizeof path, "../shared/vocab/ggml-vocab-%s.gguf", names[i]);
            bench_vocab(path, base, base_len);
        }
    }
    free(base);
    return 0;
}
