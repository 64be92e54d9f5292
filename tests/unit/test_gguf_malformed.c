/* test_gguf_malformed.c — the GGUF reader on files it must reject.
 *
 * Usage: test_gguf_malformed <source_dir> <shared_dir> (neither is read)
 *
 *   1. A corpus of bad files made by patching a good one (ggufkit.h): each
 *      must be rejected with its own one-line message (asserted by
 *      substring, and no case's substring in another's message); also
 *      arrays nested deeper than the reader's bound.
 *   2. Truncation at every byte of the file, header and data region alike:
 *      each prefix fails cleanly unless it holds all tensor data.
 *   3. Random byte mutations (2000 with UMI_TEST_QUICK set, else 20000): no
 *      crash, every rejection has a non-empty one-line message, and an
 *      accepted file's tensor data can be read.
 * Every parse is of an allocation of exactly the file's size, for ASan.
 * UMI_TEST_VERBOSE=1 prints each bad file's message.
 * The good files and the getters: test_gguf.c.
 * Prints "N passed, M failed"; exits 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "testkit.h"
#include "ggufkit.h"

/* b must be rejected with a one-line message containing substr; the message
 * is copied to msg (sizeof umi_error.msg bytes) when msg is non-NULL. */
static void expect_reject(const char *label, const blob *b, const char *substr, char *msg) {
    umi_gguf *g = NULL;
    umi_error err = {0};
    umi_status st = parse_exact(b->p, b->size, &g, &err);
    if (check(st != UMI_OK && g == NULL, "%s: accepted", label)) {
        check(strstr(err.msg, substr) != NULL, "%s: message '%s' lacks '%s'", label, err.msg,
              substr);
        check(strchr(err.msg, '\n') == NULL, "%s: message has a newline", label);
    }
    if (msg) {
        memcpy(msg, err.msg, sizeof err.msg);
    }
    if (getenv("UMI_TEST_VERBOSE")) {
        printf("  %-28s %s\n", label, err.msg);
    }
}

/* ---------------------------------------------------------------- 1. bad files */

/* Byte offsets of one tensor info's fields in a file. */
typedef struct info_at {
    size_t name_len, n_dims, ne, type, offset;
} info_at;

static info_at tensor_fields(const blob *b, const char *name) {
    info_at f;
    size_t p = find_name(b, name);
    uint32_t n_dims = b->p[p + strlen(name)];
    f.name_len = p - 8;
    f.n_dims = p + strlen(name);
    f.ne = f.n_dims + 4;
    f.type = f.ne + 8 * (size_t)n_dims;
    f.offset = f.type + 4;
    return f;
}

/* Offset of the value type field of a key. */
static size_t value_at(const blob *b, const char *key) {
    return find_name(b, key) + strlen(key);
}

static void bad_magic(blob *b) { b->p[0] = 'X'; }
static void bad_version99(blob *b) { put_u32(b->p + 4, 99); }
static void bad_version1(blob *b) { put_u32(b->p + 4, 1); }
static void bad_version_swapped(blob *b) { put_u32(b->p + 4, 0x03000000u); }
static void bad_n_tensors(blob *b) { put_u64(b->p + 8, UINT64_C(1) << 62); }
static void bad_n_kv(blob *b) { put_u64(b->p + 16, UINT64_C(1) << 62); }
static void bad_key_len(blob *b) { put_u64(b->p + 24, UINT64_C(1) << 63); }
static void bad_key_empty(blob *b) { put_u64(b->p + 24, 0); }
static void bad_key_nul(blob *b) { b->p[32 + 3] = 0; }
static void bad_str_len(blob *b) { put_u64(b->p + value_at(b, "v.str") + 4, UINT64_C(1) << 63); }
static void bad_value_type(blob *b) { put_u32(b->p + value_at(b, "v.u8"), 13); }
static void bad_elem_type(blob *b) { put_u32(b->p + value_at(b, "a.u8") + 4, 77); }
static void bad_arr_count(blob *b) { put_u64(b->p + value_at(b, "a.u8") + 8, UINT64_C(1) << 40); }
static void bad_str_elem(blob *b) {
    put_u64(b->p + value_at(b, "a.str") + 16, UINT64_C(1) << 63);
}
static void bad_nested_type(blob *b) { put_u32(b->p + value_at(b, "a.nested") + 16, 99); }
static void bad_dup_key(blob *b) { b->p[find_name(b, "dup.aab") + 6] = 'a'; }
static void bad_dup_tensor(blob *b) {
    memcpy(b->p + find_name(b, "tensor.gamma"), "tensor.alpha", 12);
}
static void bad_name_len(blob *b) { put_u64(b->p + tensor_fields(b, "tensor.alpha").name_len, 70); }
static void bad_n_dims(blob *b) { put_u32(b->p + tensor_fields(b, "tensor.alpha").n_dims, 5); }
static void bad_ne_negative(blob *b) {
    put_u64(b->p + tensor_fields(b, "tensor.alpha").ne + 8, UINT64_MAX);
}
static void bad_ne_overflow(blob *b) {
    info_at f = tensor_fields(b, "tensor.alpha");
    put_u64(b->p + f.ne, UINT64_C(1) << 32);
    put_u64(b->p + f.ne + 8, UINT64_C(1) << 32);
}
static void bad_type255(blob *b) { put_u32(b->p + tensor_fields(b, "tensor.beta").type, 255); }
static void bad_type16(blob *b) { put_u32(b->p + tensor_fields(b, "tensor.beta").type, 16); }
static void bad_block(blob *b) { put_u64(b->p + tensor_fields(b, "tensor.beta").ne, 48); }
static void bad_too_big(blob *b) {
    put_u64(b->p + tensor_fields(b, "tensor.alpha").ne, UINT64_C(1) << 40);
}
static void bad_misaligned(blob *b) {
    size_t at = tensor_fields(b, "tensor.beta").offset;
    put_u64(b->p + at, get_u64(b->p + at) + 1);
}
static void bad_offset_beyond(blob *b) {
    put_u64(b->p + tensor_fields(b, "tensor.beta").offset, UINT64_C(1) << 40);
}
static void bad_past_eof(blob *b) {
    /* delta is last: 144 bytes padded to 160, so 32 further on it ends 16 past EOF */
    size_t at = tensor_fields(b, "tensor.delta").offset;
    put_u64(b->p + at, get_u64(b->p + at) + 32);
}
static void bad_overlap(blob *b) { put_u64(b->p + tensor_fields(b, "tensor.beta").offset, 0); }
static void bad_data_section(blob *b) {
    /* cut right after the last info: the padded data section starts past EOF */
    b->size = tensor_fields(b, "tensor.delta").offset + 8;
}
static void bad_align0(blob *b) { put_u32(b->p + value_at(b, "general.alignment") + 4, 0); }
static void bad_align3(blob *b) { put_u32(b->p + value_at(b, "general.alignment") + 4, 3); }
static void bad_align_type(blob *b) {
    put_u32(b->p + value_at(b, "general.alignment"), UMI_GGUF_INT32);
}

typedef struct bad_case {
    const char *label;
    void (*patch)(blob *b);
    const char *substr;  /* expected in the message, and in no other case's */
    uint32_t alignment;  /* of the good file to patch; 0: no general.alignment key */
} bad_case;

static const bad_case BAD_CASES[] = {
    {"bad magic", bad_magic, "bad magic 'XGUF' at byte 0", 0},
    {"version 99", bad_version99, "unsupported GGUF version 99 at byte 4", 0},
    {"version 1", bad_version1, "v1 is obsolete", 0},
    {"big-endian", bad_version_swapped, "looks byte-swapped", 0},
    {"n_tensors 2^62", bad_n_tensors, "n_tensors = 4611686018427387904 at byte 8", 0},
    {"n_kv 2^62", bad_n_kv, "n_kv = 4611686018427387904 at byte 16", 0},
    {"key length 2^63", bad_key_len, "key string length 9223372036854775808 at byte 24", 0},
    {"empty key", bad_key_empty, "key at byte 24 is empty", 0},
    {"NUL in key", bad_key_nul, "contains a NUL byte", 0},
    {"value length 2^63", bad_str_len, "value string length 9223372036854775808", 0},
    {"value type 13", bad_value_type, "unknown value type 13", 0},
    {"array element type 77", bad_elem_type, "unknown array element type 77", 0},
    {"array count 2^40", bad_arr_count, "array count 1099511627776", 0},
    {"string element 2^63", bad_str_elem, "array element string length 9223372036854775808", 0},
    {"nested type 99", bad_nested_type, "unknown nested array element type 99", 0},
    {"duplicate key", bad_dup_key, "'dup.aaa': duplicate key at byte", 0},
    {"duplicate tensor", bad_dup_tensor, "duplicate tensor name at byte", 0},
    {"tensor name 70 bytes", bad_name_len, "bytes long (at most 63)", 0},
    {"n_dims 5", bad_n_dims, "n_dims = 5 at byte", 0},
    {"negative ne", bad_ne_negative, "ne[1] = -1 at byte", 0},
    {"ne product overflow", bad_ne_overflow, "overflows int64", 0},
    {"type 255", bad_type255, "unknown tensor type 255 at byte", 0},
    {"type 16", bad_type16, "tensor type 16 at byte", 0},
    {"ne[0] not a block multiple", bad_block, "is not a multiple of the block size 32", 0},
    {"tensor bigger than file", bad_too_big, "needs more bytes than the whole file", 0},
    {"misaligned offset", bad_misaligned, "is not a multiple of the alignment 32", 0},
    {"offset 2^40", bad_offset_beyond, "lies beyond the end of the file", 0},
    {"tensor past EOF", bad_past_eof, "'tensor.delta': data [", 0},
    {"overlap", bad_overlap, "overlaps tensor 0 'tensor.alpha' data [", 0},
    {"data section past EOF", bad_data_section, "starts past end of file", 0},
    {"alignment 0", bad_align0, "alignment = 0 (key at byte 24)", 32},
    {"alignment 3", bad_align3, "alignment = 3 (key at byte 24)", 32},
    {"alignment i32", bad_align_type, "type i32 at byte 24 must be u32", 32},
};
enum { N_BAD = sizeof BAD_CASES / sizeof BAD_CASES[0] };

static void test_bad_files(void) {
    blob good = make_good(0), good_aligned = make_good(32);
    char msgs[N_BAD][sizeof ((umi_error *)0)->msg];
    for (int i = 0; i < N_BAD; i++) {
        const bad_case *bc = &BAD_CASES[i];
        blob b = copy_blob(bc->alignment ? &good_aligned : &good);
        bc->patch(&b);
        expect_reject(bc->label, &b, bc->substr, msgs[i]);
        free(b.p);
    }
    /* Each message is its own: no case's substring appears in another's message. */
    for (int i = 0; i < N_BAD; i++) {
        for (int j = 0; j < N_BAD; j++) {
            if (i != j) {
                check(!strstr(msgs[j], BAD_CASES[i].substr), "'%s' also matches case '%s': %s",
                      BAD_CASES[i].substr, BAD_CASES[j].label, msgs[j]);
            }
        }
    }
    /* The message shape promised in gguf.h. */
    for (int i = 0; i < N_BAD; i++) {
        if (BAD_CASES[i].patch == bad_past_eof) {
            char tail[64];
            snprintf(tail, sizeof tail, ") ends past end of file (%zu bytes)", good.size);
            check(strncmp(msgs[i], "gguf: tensor 4 'tensor.delta': data [", 37) == 0 &&
                  strstr(msgs[i], tail), "past-EOF message: %s", msgs[i]);
        }
    }
    free(good.p);
    free(good_aligned.p);
}

/* Arrays of arrays nested deeper than the reader's bound. */
static void test_deep_nesting(void) {
    enum { LEVELS = 20 };
    uint8_t body[LEVELS * 12 + 12] = {0};
    for (int i = 0; i < LEVELS; i++) {
        put_u32(body + 12 * i, UMI_GGUF_ARRAY);
        put_u64(body + 12 * i + 4, 1);
    }
    put_u32(body + 12 * LEVELS, UMI_GGUF_UINT8); /* innermost: empty u8 array */
    umi_gguf_writer *w = umi_gguf_writer_init();
    umi_gguf_writer_add_arr(w, "deep", UMI_GGUF_UINT8, body, sizeof body);
    blob b = {0};
    void *p = NULL;
    umi_error err = {0};
    umi_gguf_writer_to_buffer(w, &p, &b.size, &err);
    umi_gguf_writer_free(w);
    b.p = p;
    size_t at = value_at(&b, "deep");
    put_u32(b.p + at + 4, UMI_GGUF_ARRAY);
    put_u64(b.p + at + 8, 1);
    expect_reject("nested 21 deep", &b, "arrays nested more than 16 deep", NULL);
    free(b.p);
}

/* ---------------------------------------------------------------- 2. truncation */

static void test_truncation(void) {
    blob b = make_good(0);
    umi_gguf *g = NULL;
    umi_error err = {0};
    if (umi_gguf_parse(b.p, b.size, &g, &err) != UMI_OK) {
        check(false, "truncation: good file: %s", err.msg);
        free(b.p);
        return;
    }
    uint64_t data_end = 0; /* where the last tensor's bytes end; padding follows */
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        uint64_t end = g->data_offset + g->tensors[i].offset + g->tensors[i].nbytes;
        data_end = end > data_end ? end : data_end;
    }
    umi_gguf_close(g);
    /* The file is small: every prefix, header and data alike. */
    int wrong = 0;
    for (size_t len = 0; len < b.size; len++) {
        umi_status st = parse_exact(b.p, len, &g, &err);
        bool want_ok = len >= data_end;
        bool ok = want_ok ? st == UMI_OK
                          : (st == UMI_ERR_FORMAT && strncmp(err.msg, "gguf: ", 6) == 0);
        if (!ok && wrong++ < 5) {
            check(false, "truncated to %zu of %zu bytes: status %d, '%s'", len, b.size, st,
                  err.msg);
        }
    }
    check(wrong == 0, "%d truncations misjudged", wrong);
    free(b.p);
}

/* ---------------------------------------------------------------- 3. mutations */

static uint64_t lcg_next(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static void test_mutations(void) {
    blob good = make_good(0);
    uint64_t seed = 12345;
    int n = getenv("UMI_TEST_QUICK") ? 2000 : 20000;
    int accepted = 0;
    for (int it = 0; it < n; it++) {
        blob b = copy_blob(&good);
        int edits = 1 + (int)(lcg_next(&seed) % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = lcg_next(&seed) % b.size;
            switch (lcg_next(&seed) % 4) {
            case 0: b.p[at] ^= (uint8_t)(1u << (lcg_next(&seed) % 8)); break;
            case 1: b.p[at] = 0xff; break;
            case 2: b.p[at] = 0; break;
            default: b.p[at] = (uint8_t)lcg_next(&seed); break;
            }
        }
        if (lcg_next(&seed) % 8 == 0) {
            b.size = lcg_next(&seed) % b.size;
        }
        umi_gguf *g = NULL;
        umi_error err = {0};
        umi_status st = parse_exact(b.p, b.size, &g, &err);
        accepted += st == UMI_OK;
        if (st != UMI_OK && (err.msg[0] == '\0' || strchr(err.msg, '\n'))) {
            check(false, "mutation %d: bad message '%s'", it, err.msg);
        }
        free(b.p);
    }
    check(true, "mutations");
    printf("  %d mutated files, %d accepted (data in padding or values)\n", n, accepted);
    free(good.p);
}

int main(void) {
    test_bad_files();
    test_deep_nesting();
    test_truncation();
    test_mutations();
    printf("test_gguf_malformed: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
