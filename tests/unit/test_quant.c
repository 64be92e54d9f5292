/* test_quant — tensor types: block decoding, activation quantizers and
 * scalar dot products (the fp16 / bf16 conversions: test_fp16.c).
 *
 *   1. Traits table: names, sizes, pairing.
 *   2. Decoding of random blocks of every type, bit-exact against the
 *      independent numpy decoder tests/quant/decode_ref.py.
 *   3. Real tensors from ../shared/models (extracted by tests/quant/
 *      gguf_tensors.py): bit-exact decoding, error against the F32 source,
 *      and umi's simple quantizers byte-identical to the reference's files.
 *   4. vec_dot of every weight type against a double-precision dot of the
 *      decoded operands, and bit for bit against results of the reference's
 *      scalar C on pinned inputs.
 *   5. Quantize/dequantize round trips and pinned rounding rules.
 *
 * Usage: test_quant <source_dir> <shared_dir>. UMI_TEST_QUICK=1 samples less.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp */
#endif
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/quant.h"
#include "umi.h"

#define TESTKIT_SEED 0x9e3779b97f4a7c15ull
#include "unit/testkit.h"

/* vec_dot vs a double dot of the decoded operands, relative to sum |x_i y_i|.
 * The float paths round each block's scale products and the running sum
 * (2^-24 relative each, up to 128 blocks per row), and decoded weights carry
 * one or two fp32 roundings: observed errors stay below 1e-7, so 1e-6 leaves
 * a 10x margin while a single wrong element in a 4096-row (~2e-4) or a
 * wrong scale fails by orders of magnitude. */
static const double DOT_REL_TOL = 1e-6;

/* Relative RMS error of a decoded real tensor against its F32 source, per
 * type: about 1.3x what the reference's quantizer achieves on rnd-llama; a
 * misread layout gives ~1.4 (uncorrelated values). */
static double source_error_bound(uint32_t type) {
    switch (type) {
    case UMI_TYPE_F16: return 0.0005;
    case UMI_TYPE_BF16: return 0.003;
    case UMI_TYPE_Q8_0: return 0.008;
    case UMI_TYPE_Q6_K: return 0.025;
    case UMI_TYPE_Q5_0: case UMI_TYPE_Q5_1: case UMI_TYPE_Q5_K: return 0.06;
    case UMI_TYPE_Q4_0: case UMI_TYPE_Q4_1: case UMI_TYPE_Q4_K:
    case UMI_TYPE_IQ4_NL: case UMI_TYPE_IQ4_XS: return 0.12;
    case UMI_TYPE_Q3_K: return 0.2;
    case UMI_TYPE_Q2_K: return 0.4;
    default: return 0.0;
    }
}

/* ---------------------------------------------------------------- harness */

static bool quick;

static const char *python_path(void) {
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static bool write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    const bool ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* Index of the first element whose bits differ, or -1. */
static int64_t first_bit_mismatch(const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (umi_fp32_to_bits(a[i]) != umi_fp32_to_bits(b[i])) return i;
    return -1;
}

/* ---------------------------------------------------------------- 1. traits */

static const uint32_t all_types[] = {
    UMI_TYPE_F32, UMI_TYPE_F16, UMI_TYPE_BF16, UMI_TYPE_Q4_0, UMI_TYPE_Q4_1, UMI_TYPE_Q5_0,
    UMI_TYPE_Q5_1, UMI_TYPE_Q8_0, UMI_TYPE_Q8_1, UMI_TYPE_Q2_K, UMI_TYPE_Q3_K, UMI_TYPE_Q4_K,
    UMI_TYPE_Q5_K, UMI_TYPE_Q6_K, UMI_TYPE_Q8_K, UMI_TYPE_IQ4_NL, UMI_TYPE_IQ4_XS,
};
enum { N_TYPES = sizeof all_types / sizeof all_types[0] };

static void test_traits(void) {
    static const char *names[] = {"f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0",
                                  "q8_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "q8_K",
                                  "iq4_nl", "iq4_xs"};
    static const size_t sizes[] = {4, 2, 2, 18, 20, 22, 24, 34, 36, 84, 110, 144, 176, 210, 292,
                                   18, 136};
    static const uint32_t dot_types[] = {
        UMI_TYPE_F32, UMI_TYPE_F16, UMI_TYPE_BF16, UMI_TYPE_Q8_0, UMI_TYPE_Q8_1, UMI_TYPE_Q8_0,
        UMI_TYPE_Q8_1, UMI_TYPE_Q8_0, UMI_TYPE_Q8_1, UMI_TYPE_Q8_K, UMI_TYPE_Q8_K, UMI_TYPE_Q8_K,
        UMI_TYPE_Q8_K, UMI_TYPE_Q8_K, UMI_TYPE_Q8_K, UMI_TYPE_Q8_0, UMI_TYPE_Q8_K};
    for (int i = 0; i < N_TYPES; i++) {
        const umi_type_traits *t = umi_type_traits_get(all_types[i]);
        if (!check(t != NULL, "no traits for type %u", all_types[i])) continue;
        check(strcmp(t->name, names[i]) == 0, "type %u named %s, want %s", all_types[i], t->name,
              names[i]);
        check(strcmp(umi_type_name((int)all_types[i]), names[i]) == 0, "umi_type_name(%u)",
              all_types[i]);
        check(t->type_size == sizes[i], "%s: type_size %zu", t->name, t->type_size);
        check(t->vec_dot_type == dot_types[i], "%s: vec_dot_type %d", t->name, t->vec_dot_type);
        check(t->to_float != NULL, "%s: no to_float", t->name);
        const bool activation_only = all_types[i] == UMI_TYPE_Q8_1 || all_types[i] == UMI_TYPE_Q8_K;
        check(activation_only || t->vec_dot != NULL, "%s: no vec_dot", t->name);
        const umi_type_traits *dt = umi_type_traits_get(t->vec_dot_type);
        check(dt && dt->from_float, "%s: its vec_dot type cannot be quantized to", t->name);
        check(umi_type_row_size(all_types[i], 1024) == 1024 / (size_t)t->blck_size * t->type_size,
              "%s: row size", t->name);
    }
    check(umi_type_row_size(UMI_TYPE_Q4_0, 100) == 0, "row size of a partial block must be 0");
    check(umi_type_row_size(16, 512) == 132, "iq2_xxs row size (layout only)");
    check(umi_type_row_size(4, 32) == 0 && umi_type_row_size(99, 32) == 0, "unknown ids size 0");
    check(umi_type_traits_get(16) == NULL && umi_type_traits_get(4) == NULL &&
              umi_type_traits_get(1000) == NULL, "traits of unsupported ids must be NULL");
    check(strcmp(umi_type_name(16), "iq2_xxs") == 0 && strcmp(umi_type_name(4), "?") == 0 &&
              strcmp(umi_type_name(-1), "?") == 0, "umi_type_name of other ids");
}

/* ---------------------------------------------------------------- random blocks */

/* A finite half with a varied exponent (occasionally zero or subnormal). */
static uint16_t random_half(void) {
    const uint64_t r = rng_next();
    if (r % 64 == 0) return (uint16_t)(r >> 8 & 0x83ff); /* zero / subnormal */
    const uint16_t exp = (uint16_t)(3 + (r >> 8) % 15);  /* 2^-12 .. 2^2 */
    return (uint16_t)((r >> 16 & 0x8000) | exp << 10 | (r >> 24 & 0x3ff));
}

static void put_half(uint8_t *block, size_t offset) {
    const uint16_t h = random_half();
    memcpy(block + offset, &h, 2);
}

/* n elements of random but valid data of a type: random bytes with every
 * fp16 scale replaced by a finite half (and finite float elements). */
static void *random_tensor(uint32_t type, int64_t n) {
    const umi_type_traits *t = umi_type_traits_get(type);
    const int64_t nb = n / t->blck_size;
    uint8_t *buf = xmalloc((size_t)nb * t->type_size);
    for (int64_t i = 0; i < nb * (int64_t)t->type_size; i++)
        buf[i] = (uint8_t)rng_next();
    for (int64_t i = 0; i < nb; i++) {
        uint8_t *b = buf + i * t->type_size;
        switch (type) {
        case UMI_TYPE_F32: {
            const float f = 4.0f * rng_signed() * exp2f((float)(int)(rng_next() % 40) - 20);
            memcpy(b, &f, 4);
            break;
        }
        case UMI_TYPE_F16: put_half(b, 0); break;
        case UMI_TYPE_BF16: { /* random low mantissa bits, moderate exponent */
            const float f = 4.0f * rng_signed() * exp2f((float)(int)(rng_next() % 40) - 20);
            const uint16_t v = (uint16_t)(umi_fp32_to_bf16(f) ^ (rng_next() & 0x7f));
            memcpy(b, &v, 2);
            break;
        }
        case UMI_TYPE_Q4_0: case UMI_TYPE_Q5_0: case UMI_TYPE_Q8_0:
        case UMI_TYPE_IQ4_NL: case UMI_TYPE_IQ4_XS:
            put_half(b, 0);
            break;
        case UMI_TYPE_Q4_1: case UMI_TYPE_Q5_1: case UMI_TYPE_Q8_1:
        case UMI_TYPE_Q4_K: case UMI_TYPE_Q5_K:
            put_half(b, 0);
            put_half(b, 2);
            break;
        case UMI_TYPE_Q2_K:
            put_half(b, offsetof(umi_block_q2_K, d));
            put_half(b, offsetof(umi_block_q2_K, dmin));
            break;
        case UMI_TYPE_Q3_K: put_half(b, offsetof(umi_block_q3_K, d)); break;
        case UMI_TYPE_Q6_K: put_half(b, offsetof(umi_block_q6_K, d)); break;
        case UMI_TYPE_Q8_K: {
            const float d = rng_signed() * 1e-2f;
            memcpy(b, &d, 4);
            break;
        }
        }
    }
    return buf;
}

/* ---------------------------------------------------------------- 2. decode vs python */

static void test_decode_random(const char *src_dir) {
    char dir[] = "/tmp/umi_test_quant_XXXXXX";
    if (!check(mkdtemp(dir) != NULL, "mkdtemp failed")) return;
    const int64_t n = 8192;
    char path[512], manifest[512];
    snprintf(manifest, sizeof manifest, "%s/manifest.txt", dir);
    FILE *mf = fopen(manifest, "w");
    if (!check(mf != NULL, "cannot write %s", manifest)) {
        rmdir(dir);
        return;
    }
    void *data[N_TYPES];
    for (int i = 0; i < N_TYPES; i++) {
        const umi_type_traits *t = umi_type_traits_get(all_types[i]);
        data[i] = random_tensor(all_types[i], n);
        snprintf(path, sizeof path, "%s/%s.raw", dir, t->name);
        check(write_file(path, data[i], umi_type_row_size(all_types[i], n)), "cannot write %s",
              path);
        fprintf(mf, "%s %s/%s.raw %s/%s.dec\n", t->name, dir, t->name, dir, t->name);
    }
    fclose(mf);

    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/quant/decode_ref.py' selftest >/dev/null",
             python_path(), src_dir);
    check(system(cmd) == 0, "python decoder self test failed: %s", cmd);
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/quant/decode_ref.py' decode '%s'", python_path(),
             src_dir, manifest);
    const bool ran = system(cmd) == 0;
    check(ran, "python decoder failed: %s", cmd);

    float *mine = xmalloc((size_t)n * sizeof(float));
    for (int i = 0; i < N_TYPES; i++) {
        const umi_type_traits *t = umi_type_traits_get(all_types[i]);
        snprintf(path, sizeof path, "%s/%s.dec", dir, t->name);
        size_t len = 0;
        float *ref = ran ? (float *)read_file(path, &len) : NULL;
        if (ran && check(ref && len == (size_t)n * sizeof(float), "%s: no decoder output", t->name)) {
            t->to_float(data[i], mine, n);
            const int64_t bad = first_bit_mismatch(mine, ref, n);
            check(bad < 0, "%s: element %lld decodes to %.9g, independent decoder says %.9g",
                  t->name, (long long)bad, bad < 0 ? 0.0 : mine[bad], bad < 0 ? 0.0 : ref[bad]);
        }
        free(ref);
        free(data[i]);
        remove(path);
        snprintf(path, sizeof path, "%s/%s.raw", dir, t->name);
        remove(path);
    }
    free(mine);
    remove(manifest);
    rmdir(dir);
}

/* ---------------------------------------------------------------- 4. vec_dot */

typedef struct dot_error {
    double worst;  /* largest |error| / sum |x_i y_i| */
    int n_over;    /* rows over DOT_REL_TOL */
} dot_error;

/* One row: x (type) against y quantized to the vec_dot type. */
static void dot_one(uint32_t type, const void *x, const float *y, int n, dot_error *e) {
    const umi_type_traits *t = umi_type_traits_get(type);
    const umi_type_traits *dt = umi_type_traits_get(t->vec_dot_type);
    void *yq = xmalloc(umi_type_row_size(t->vec_dot_type, n));
    float *xf = xmalloc((size_t)n * sizeof(float)), *yf = xmalloc((size_t)n * sizeof(float));
    dt->from_float(y, yq, n);
    t->to_float(x, xf, n);
    dt->to_float(yq, yf, n);
    double ref = 0.0, mag = 0.0;
    for (int i = 0; i < n; i++) {
        ref += (double)xf[i] * yf[i];
        mag += fabs((double)xf[i] * yf[i]);
    }
    /* Q8_1 carries s = fp16(d * sum(q)), rounded on its own rather than
     * equal to the decoded fp16(d) * sum(q); the _1 types apply their offset
     * m through s, so the format's dot is the decoded one plus
     * sum over blocks of m * (s - d * sum(q)). */
    if (t->vec_dot_type == UMI_TYPE_Q8_1) {
        const umi_block_q8_1 *yb = yq;
        for (int b = 0; b < n / 32; b++) {
            uint16_t m;
            memcpy(&m, (const uint8_t *)x + (size_t)b * t->type_size + 2, 2); /* m follows d */
            int sum = 0;
            for (int j = 0; j < 32; j++) sum += yb[b].qs[j];
            ref += (double)umi_fp16_to_fp32(m) *
                   ((double)umi_fp16_to_fp32(yb[b].s) - (double)umi_fp16_to_fp32(yb[b].d) * sum);
        }
    }
    float got = NAN;
    t->vec_dot(n, &got, x, yq);
    const double err = fabs(got - ref);
    const double rel = mag > 0 ? err / mag : err;
    if (!(rel <= e->worst)) e->worst = rel; /* NaN sticks */
    e->n_over += !(rel <= DOT_REL_TOL);
    free(yq);
    free(xf);
    free(yf);
}

static void random_activations(float *y, int n) {
    const float scale = exp2f((float)(int)(rng_next() % 12) - 6);
    for (int i = 0; i < n; i++)
        y[i] = rng_signed() * scale * (rng_next() % 16 == 0 ? 8.0f : 1.0f);
}

static void test_vec_dot_random(void) {
    const int n = 4096, reps = quick ? 4 : 32;
    float *y = xmalloc((size_t)n * sizeof(float));
    for (int i = 0; i < N_TYPES; i++) {
        const umi_type_traits *t = umi_type_traits_get(all_types[i]);
        if (!t->vec_dot) continue;
        dot_error e = {0, 0};
        for (int r = 0; r < reps; r++) {
            void *x = random_tensor(all_types[i], n);
            random_activations(y, n);
            dot_one(all_types[i], x, y, n, &e);
            free(x);
        }
        check(e.n_over == 0, "vec_dot %s: %d of %d random rows off by more than %g (worst %.3g)",
              t->name, e.n_over, reps, DOT_REL_TOL, e.worst);
        if (getenv("UMI_TEST_VERBOSE"))
            printf("  vec_dot %-6s worst relative error %.3g\n", t->name, e.worst);
    }
    free(y);
}

/* Dots pinned bit for bit to the reference's scalar C: for each type,
 * PINNED_ROWS rows made by pinned_inputs() were dotted by ggml-cpu/quants.c's
 * *_generic functions (llama.cpp 34af94cd9ab2, gcc -std=c11 -O2); `first` is
 * the result of row 0 and `hash` the FNV-1a hash of all results' bits. They
 * lock the grouping of the float operations, which the tolerance test cannot
 * see (a regrouping changes the last bit of only some rows). */
enum { PINNED_N = 2048, PINNED_ROWS = 32 };
static const struct { uint32_t type; uint32_t first; uint32_t hash; } pinned_dots[] = {
    {UMI_TYPE_Q4_0, 0xc5d41ce1, 0xe958a308},
    {UMI_TYPE_Q4_1, 0x445e688a, 0x31e7a74d},
    {UMI_TYPE_Q5_0, 0xc631c4fa, 0xa4496326},
    {UMI_TYPE_Q5_1, 0xc4855bd2, 0x38d4748d},
    {UMI_TYPE_Q8_0, 0x45e39912, 0x02eb5fe9},
    {UMI_TYPE_Q2_K, 0xc310dc91, 0xb123d5bc},
    {UMI_TYPE_Q3_K, 0x413fc50a, 0xb352c41c},
    {UMI_TYPE_Q4_K, 0xc80e32da, 0xccecec19},
    {UMI_TYPE_Q5_K, 0x48146a4b, 0xbd7cb76e},
    {UMI_TYPE_Q6_K, 0x47892964, 0x86d22fb7},
    {UMI_TYPE_IQ4_NL, 0xc3386c80, 0x4ed6e141},
    {UMI_TYPE_IQ4_XS, 0xc6295c05, 0xf515288c},
};

/* Deterministic weights and activations for one row of one type, independent
 * of the random state the other tests leave behind. Caller frees *x. */
static void pinned_inputs(uint32_t type, int row, void **x, float *y) {
    const uint64_t saved = rng_state;
    rng_state = 0x5eed5eedull * (type + 1) + (uint64_t)row;
    *x = random_tensor(type, PINNED_N);
    random_activations(y, PINNED_N);
    rng_state = saved;
}

static uint32_t fnv1a_u32(uint32_t hash, uint32_t v) {
    for (int i = 0; i < 4; i++)
        hash = (hash ^ ((v >> (8 * i)) & 0xffu)) * 16777619u;
    return hash;
}

static void test_pinned_dots(void) {
    static float y[PINNED_N];
    for (size_t k = 0; k < sizeof pinned_dots / sizeof pinned_dots[0]; k++) {
        const umi_type_traits *t = umi_type_traits_get(pinned_dots[k].type);
        const umi_type_traits *dt = umi_type_traits_get(t->vec_dot_type);
        void *yq = xmalloc(umi_type_row_size(t->vec_dot_type, PINNED_N));
        uint32_t first = 0, hash = 2166136261u;
        for (int r = 0; r < PINNED_ROWS; r++) {
            void *x;
            pinned_inputs(pinned_dots[k].type, r, &x, y);
            dt->from_float(y, yq, PINNED_N);
            float got;
            t->vec_dot(PINNED_N, &got, x, yq);
            if (r == 0) first = umi_fp32_to_bits(got);
            hash = fnv1a_u32(hash, umi_fp32_to_bits(got));
            free(x);
        }
        check(first == pinned_dots[k].first && hash == pinned_dots[k].hash,
              "vec_dot %s differs from the reference's scalar C: row 0 gives %a (0x%08x, want "
              "0x%08x), hash of %d rows 0x%08x (want 0x%08x)", t->name,
              (double)umi_bits_to_fp32(first), first, pinned_dots[k].first, PINNED_ROWS, hash,
              pinned_dots[k].hash);
        free(yq);
    }
}

/* ---------------------------------------------------------------- 3. real tensors */

static bool is_ref_quantized(uint32_t type) {
    switch (type) {
    case UMI_TYPE_F16: case UMI_TYPE_BF16: case UMI_TYPE_Q4_0: case UMI_TYPE_Q4_1:
    case UMI_TYPE_Q5_0: case UMI_TYPE_Q5_1: case UMI_TYPE_Q8_0: return true;
    default: return false;
    }
}

static void test_real_slice(uint32_t type, int64_t n, int row_len, const char *raw_path,
                            const char *dec_path, const char *src_path, const char *label) {
    const umi_type_traits *t = umi_type_traits_get(type);
    if (!check(t != NULL, "%s: type %u has no traits", label, type)) return;
    size_t raw_len = 0, dec_len = 0, src_len = 0;
    uint8_t *raw = (uint8_t *)read_file(raw_path, &raw_len);
    float *dec = (float *)read_file(dec_path, &dec_len);
    float *src = strcmp(src_path, "-") ? (float *)read_file(src_path, &src_len) : NULL;
    float *mine = xmalloc((size_t)n * sizeof(float));
    if (!check(raw && dec && raw_len == umi_type_row_size(type, n) &&
                   dec_len == (size_t)n * sizeof(float), "%s: bad extracted files", label))
        goto done;

    t->to_float(raw, mine, n);
    const int64_t bad = first_bit_mismatch(mine, dec, n);
    check(bad < 0, "%s: element %lld decodes to %.9g, independent decoder says %.9g", label,
          (long long)bad, bad < 0 ? 0.0 : mine[bad], bad < 0 ? 0.0 : dec[bad]);

    if (src && src_len == (size_t)n * sizeof(float)) {
        double err2 = 0.0, ref2 = 0.0;
        for (int64_t i = 0; i < n; i++) {
            err2 += ((double)mine[i] - src[i]) * ((double)mine[i] - src[i]);
            ref2 += (double)src[i] * src[i];
        }
        const double rel = sqrt(err2 / ref2);
        check(rel <= source_error_bound(type), "%s: relative RMS error %.4f against the F32 "
              "source exceeds %.4f", label, rel, source_error_bound(type));
        if (is_ref_quantized(type)) {
            uint8_t *q = xmalloc(raw_len);
            t->from_float(src, q, n);
            size_t first = 0;
            while (first < raw_len && q[first] == raw[first]) first++;
            check(first == raw_len, "%s: umi's quantizer differs from the reference's file at "
                  "byte %zu of %zu", label, first, raw_len);
            free(q);
        }
    }

    if (t->vec_dot) { /* real weights against random activations, row by row */
        dot_error e = {0, 0};
        float *y = xmalloc((size_t)row_len * sizeof(float));
        const int64_t n_rows = n / row_len;
        for (int64_t r = 0; r < n_rows && r < 16; r++) {
            random_activations(y, row_len);
            dot_one(type, raw + (size_t)r * umi_type_row_size(type, row_len), y, row_len, &e);
        }
        check(e.n_over == 0, "%s: vec_dot off by more than %g on %d rows (worst %.3g)", label,
              DOT_REL_TOL, e.n_over, e.worst);
        free(y);
    }
done:
    free(raw);
    free(dec);
    free(src);
    free(mine);
}

static void test_real_tensors(const char *src_dir, const char *shared_dir) {
    char models[512], probe[600];
    snprintf(models, sizeof models, "%s/models", shared_dir);
    snprintf(probe, sizeof probe, "%s/rnd-llama-f32.gguf", models);
    if (access(probe, R_OK) != 0) {
        printf("note: %s missing; real-tensor checks skipped\n", probe);
        return;
    }
    char dir[] = "/tmp/umi_test_quant_XXXXXX";
    if (!check(mkdtemp(dir) != NULL, "mkdtemp failed")) return;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/quant/gguf_tensors.py' '%s' '%s'", python_path(),
             src_dir, models, dir);
    char manifest[600];
    snprintf(manifest, sizeof manifest, "%s/manifest.txt", dir);
    FILE *mf = NULL;
    if (check(system(cmd) == 0, "tensor extraction failed: %s", cmd))
        mf = fopen(manifest, "r");
    int n_slices = 0;
    unsigned type;
    long long n;
    int row_len;
    char raw[600], dec[600], src[600], label[256];
    while (mf && fscanf(mf, "%u %lld %d %599s %599s %599s %255s", &type, &n, &row_len, raw, dec,
                        src, label) == 7) {
        test_real_slice(type, n, row_len, raw, dec, src, label);
        remove(raw);
        remove(dec);
        if (strcmp(src, "-")) remove(src);
        n_slices++;
    }
    if (mf) fclose(mf);
    check(n_slices >= 40, "only %d real tensor slices extracted", n_slices);
    remove(manifest);
    rmdir(dir);
}

/* ---------------------------------------------------------------- 5. round trips */

/* Random blocks at several magnitudes, some with an all-zero block. */
static void random_rows(float *x, int n) {
    for (int b = 0; b < n / 32; b++) {
        const float scale = powf(10.0f, (float)(int)(rng_next() % 4) - 1);
        const bool zero = rng_next() % 16 == 0;
        for (int j = 0; j < 32; j++)
            x[32 * b + j] = zero ? 0.0f : rng_signed() * scale;
    }
}

static void test_roundtrip_q8(void) {
    enum { N = 4096 };
    const int reps = quick ? 4 : 64;
    static float x[N], y[N];
    static umi_block_q8_0 q0[N / 32];
    static umi_block_q8_1 q1[N / 32];
    static umi_block_q8_K qk[N / 256];
    int bad0 = 0, bad1 = 0, badk = 0, bad_sums = 0;
    for (int r = 0; r < reps; r++) {
        random_rows(x, N);

        /* Q8_0: |error| <= d/2 from rounding + 127 * |d - fp16(d)| <= d * (0.5 + 127/2048) */
        umi_quant_from_float_q8_0(x, q0, N);
        umi_quant_to_float_q8_0(q0, y, N);
        for (int b = 0; b < N / 32; b++) {
            float amax = 0.0f;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
            const float d = amax / 127;
            for (int j = 0; j < 32; j++) {
                bad0 += fabsf(x[32 * b + j] - y[32 * b + j]) > d * (0.5f + 127.0f / 2048) + 1e-7f * amax;
                bad0 += fabsf(x[32 * b + j]) == amax && amax > 0 && abs(q0[b].qs[j]) != 127;
            }
        }

        /* Q8_1: same quants, plus s = fp16(d * sum(q)) */
        umi_quant_from_float_q8_1(x, q1, N);
        for (int b = 0; b < N / 32; b++) {
            float amax = 0.0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
            for (int j = 0; j < 32; j++) sum += q1[b].qs[j];
            bad1 += memcmp(q1[b].qs, q0[b].qs, 32) != 0 || q1[b].d != q0[b].d;
            bad1 += q1[b].s != umi_fp32_to_fp16((float)sum * (amax / 127));
        }

        /* Q8_K: |error| <= |d|/2 (d is fp32), bsums exact, max element -> -127 */
        umi_quant_from_float_q8_K(x, qk, N);
        umi_quant_to_float_q8_K(qk, y, N);
        for (int b = 0; b < N / 256; b++) {
            float amax = 0.0f;
            for (int j = 0; j < 256; j++) amax = fmaxf(amax, fabsf(x[256 * b + j]));
            for (int j = 0; j < 256; j++) {
                const float xv = x[256 * b + j];
                badk += fabsf(xv - y[256 * b + j]) > fabsf(qk[b].d) * 0.5f + 1e-6f * amax;
                badk += fabsf(xv) == amax && amax > 0 && qk[b].qs[j] != -127 &&
                        qk[b].qs[j] != 127; /* +127 only when an equal-magnitude element came first */
            }
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 0; j < 16; j++) sum += qk[b].qs[16 * g + j];
                bad_sums += qk[b].bsums[g] != sum;
            }
        }
    }
    check(bad0 == 0, "Q8_0 round trip: %d elements out of bounds", bad0);
    check(bad1 == 0, "Q8_1: %d blocks differ from Q8_0 or have a wrong s", bad1);
    check(badk == 0, "Q8_K round trip: %d elements out of bounds", badk);
    check(bad_sums == 0, "Q8_K: %d wrong bsums", bad_sums);

    /* All-zero input: zero scale, zero quants, zero sums. */
    memset(x, 0, sizeof x);
    memset(qk, 0x55, sizeof qk);
    umi_quant_from_float_q8_K(x, qk, 256);
    bool zero = qk[0].d == 0.0f;
    for (int j = 0; j < 256; j++) zero = zero && qk[0].qs[j] == 0;
    for (int g = 0; g < 16; g++) zero = zero && qk[0].bsums[g] == 0;
    check(zero, "Q8_K of zeros must be all zero");
}

/* The rounding rules that make results agree with the reference: Q8_0 uses
 * roundf (ties away from zero), Q8_K rounds ties to even and flips the sign so
 * the largest element becomes -127. */
static void test_rounding_rules(void) {
    float x[256] = {127.0f, 2.5f, -2.5f, 0.5f, 1.5f, -0.5f, 126.5f};
    umi_block_q8_0 q0[8];
    umi_quant_from_float_q8_0(x, q0, 32);
    const int8_t want0[] = {127, 3, -3, 1, 2, -1, 127};
    check(memcmp(q0[0].qs, want0, sizeof want0) == 0 && q0[0].d == 0x3c00,
          "Q8_0 must round ties away from zero with d = 1");

    umi_block_q8_K qk;
    umi_quant_from_float_q8_K(x, &qk, 256);
    const int8_t wantk[] = {-127, -2, 2, 0, -2, 0, -126};
    check(memcmp(qk.qs, wantk, sizeof wantk) == 0 && qk.d == -1.0f,
          "Q8_K must round ties to even with d = -1 (got %d %d %d %d %d, d %g)", qk.qs[0],
          qk.qs[1], qk.qs[2], qk.qs[3], qk.qs[4], qk.d);

    /* Q4_0: the largest-magnitude element (negative here) is level 0. */
    float v[32] = {0};
    v[3] = -8.0f;
    v[4] = 7.0f;
    v[20] = 3.6f;
    umi_block_q4_0 b4;
    umi_quant_from_float_q4_0(v, &b4, 32);
    /* d = -8 / -8 = 1; level = floor(x + 8.5): -8 -> 0, 7 -> 15, 3.6 -> 12, 0 -> 8 */
    check(b4.d == 0x3c00 && (b4.qs[3] & 0x0f) == 0 && (b4.qs[4] & 0x0f) == 15 &&
              (b4.qs[4] >> 4) == 12 && (b4.qs[3] >> 4) == 8,
          "Q4_0 quantizer levels");
}

/* Q4_0..Q5_1 round trips within a level (+ fp16 scale rounding). */
static void test_roundtrip_legacy(void) {
    enum { N = 4096 };
    static float x[N], y[N];
    static uint8_t q[N / 32 * 24];
    const uint32_t types[] = {UMI_TYPE_Q4_0, UMI_TYPE_Q4_1, UMI_TYPE_Q5_0, UMI_TYPE_Q5_1};
    const int reps = quick ? 2 : 16;
    for (int k = 0; k < 4; k++) {
        const umi_type_traits *t = umi_type_traits_get(types[k]);
        const bool offset = types[k] == UMI_TYPE_Q4_1 || types[k] == UMI_TYPE_Q5_1;
        const float levels = types[k] == UMI_TYPE_Q4_0 || types[k] == UMI_TYPE_Q4_1 ? 16 : 32;
        int bad = 0;
        for (int r = 0; r < reps; r++) {
            random_rows(x, N);
            t->from_float(x, q, N);
            t->to_float(q, y, N);
            for (int b = 0; b < N / 32; b++) {
                float lo = x[32 * b], hi = lo, amax = 0.0f;
                for (int j = 0; j < 32; j++) {
                    lo = fminf(lo, x[32 * b + j]);
                    hi = fmaxf(hi, x[32 * b + j]);
                    amax = fmaxf(amax, fabsf(x[32 * b + j]));
                }
                /* _1: half a level; _0: up to one level (the top level is
                 * one short on the side opposite the largest element) */
                const float step = offset ? (hi - lo) / (levels - 1) : amax / (levels / 2);
                const float tol = (offset ? 0.5f : 1.0f) * step + amax * (levels / 1024.0f);
                for (int j = 0; j < 32; j++)
                    bad += fabsf(x[32 * b + j] - y[32 * b + j]) > tol;
            }
        }
        check(bad == 0, "%s round trip: %d elements out of bounds", t->name, bad);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <source_dir> <shared_dir>\n", argv[0]);
        return 2;
    }
    quick = getenv("UMI_TEST_QUICK") != NULL;

    test_traits();
    test_decode_random(argv[1]);
    test_real_tensors(argv[1], argv[2]);
    test_vec_dot_random();
    test_pinned_dots();
    test_roundtrip_q8();
    test_rounding_rules();
    test_roundtrip_legacy();

    printf("test_quant: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
