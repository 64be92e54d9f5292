/* Saving and restoring a context's state: the tokens in its KV cache and the
 * cache rows that hold them, so a later process continues without
 * reprocessing them (umi serve's /slots save/restore, umi run --prompt-cache).
 *
 * The file, all integers little-endian as the host writes them (umi runs on
 * little-endian machines only):
 *   header   64 bytes: "UMIKVST\0", u32 version, u32 cache type (GGML id),
 *            u64 model file size, u32 CRC-32 of the model's GGUF header and
 *            tensor table, u32 n_tokens, u32 n_regions, zeros up to 64
 *   regions  n_regions x {u64 row bytes, u32 rows saved, u32 0}
 *   tokens   n_tokens x i32
 *   rows     each region's saved rows, in region order
 *   trailer  u32 CRC-32 (zlib) of everything before it
 * The cache is walked through umi_kv_regions, so a new layout (ring
 * buffers, latent caches) changes that one function, not this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gguf/gguf.h"
#include "infer/infer.h"
#include "quant/quant.h"

enum { STATE_VERSION = 1, HEADER_BYTES = 64, REGION_BYTES = 16, MAX_REGIONS = 1 << 16 };
static const char MAGIC[8] = "UMIKVST";

/* The model's identity: its GGUF header and tensor table (names, types,
 * shapes, offsets, metadata) and the file size. Weights are not read. */
static uint32_t model_crc(const umi_model *m) {
    const umi_gguf *g = m->gguf;
    return (uint32_t)crc32(0L, g->base, (uInt)(g->data_offset < 0xffffffffu ? g->data_offset : 0xffffffffu));
}

typedef struct header {
    uint32_t version, kv_type, model_crc, n_tokens, n_regions;
    uint64_t model_bytes;
} header;

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Rows of a region that hold the first n positions. */
static uint32_t rows_of(const umi_kv_region *r, uint32_t n) { return n < r->n_rows ? n : r->n_rows; }

/* Write and checksum. */
static bool put(FILE *f, uLong *crc, const void *p, size_t n) {
    *crc = crc32(*crc, p, (uInt)n);
    return fwrite(p, 1, n, f) == n;
}

static umi_status regions_of(const umi_context *ctx, umi_kv_region **out, size_t *n, umi_error *err) {
    *n = umi_kv_regions(ctx, NULL, 0);
    *out = malloc((*n ? *n : 1) * sizeof **out);
    if (!*out) return umi_err(err, UMI_ERR_NOMEM, "out of memory (state regions)");
    umi_kv_regions(ctx, *out, *n);
    return UMI_OK;
}

umi_status umi_context_state_save(const umi_context *ctx, const umi_token *tokens, uint32_t n_tokens,
                                  const char *path, umi_error *err) {
    if (n_tokens > ctx->n_past)
        return umi_err(err, UMI_ERR_ARG, "state save: %u tokens asked but only %u are cached", n_tokens,
                       ctx->n_past);
    umi_kv_region *rg;
    size_t n_rg;
    umi_status st = regions_of(ctx, &rg, &n_rg, err);
    if (st) return st;
    size_t tmp_len = strlen(path) + 8;
    char *tmp = malloc(tmp_len);
    FILE *f = tmp ? (snprintf(tmp, tmp_len, "%s.tmp", path), fopen(tmp, "wb")) : NULL;
    if (!f) {
        free(rg);
        st = tmp ? umi_err(err, UMI_ERR_IO, "cannot create %s", tmp) : umi_err(err, UMI_ERR_NOMEM, "out of memory");
        free(tmp);
        return st;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    uint8_t h[HEADER_BYTES] = {0};
    memcpy(h, MAGIC, 8);
    put32(h + 8, STATE_VERSION);
    put32(h + 12, ctx->kv_type);
    put64(h + 16, ctx->model->gguf->size);
    put32(h + 24, model_crc(ctx->model));
    put32(h + 28, n_tokens);
    put32(h + 32, (uint32_t)n_rg);
    bool ok = put(f, &crc, h, sizeof h);
    for (size_t i = 0; ok && i < n_rg; i++) {
        uint8_t d[REGION_BYTES] = {0};
        put64(d, rg[i].row_bytes);
        put32(d + 8, rows_of(&rg[i], n_tokens));
        ok = put(f, &crc, d, sizeof d);
    }
    ok = ok && put(f, &crc, tokens, (size_t)n_tokens * sizeof *tokens);
    for (size_t i = 0; ok && i < n_rg; i++)
        ok = put(f, &crc, rg[i].data, (size_t)rows_of(&rg[i], n_tokens) * rg[i].row_bytes);
    uint32_t c = (uint32_t)crc;
    ok = ok && fwrite(&c, 1, 4, f) == 4;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) != 0) ok = false;
    if (!ok) {
        remove(tmp);
        st = umi_err(err, UMI_ERR_IO, "cannot write %s", path);
    }
    free(tmp);
    free(rg);
    return st;
}

/* Read and check the fixed header. */
static umi_status read_header(FILE *f, const char *path, header *out, uint8_t raw[HEADER_BYTES],
                              umi_error *err) {
    if (fread(raw, 1, HEADER_BYTES, f) != HEADER_BYTES || memcmp(raw, MAGIC, 8) != 0)
        return umi_err(err, UMI_ERR_FORMAT, "%s is not a umi state file", path);
    out->version = get32(raw + 8);
    out->kv_type = get32(raw + 12);
    out->model_bytes = get64(raw + 16);
    out->model_crc = get32(raw + 24);
    out->n_tokens = get32(raw + 28);
    out->n_regions = get32(raw + 32);
    if (out->version != STATE_VERSION)
        return umi_err(err, UMI_ERR_FORMAT, "%s: state file version %u, umi reads version %d", path,
                       out->version, STATE_VERSION);
    if (out->n_regions > MAX_REGIONS)
        return umi_err(err, UMI_ERR_FORMAT, "%s: corrupted state file (%u cache regions)", path,
                       out->n_regions);
    return UMI_OK;
}

umi_status umi_state_file_tokens(const char *path, uint32_t *n_tokens, umi_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return umi_err(err, UMI_ERR_IO, "cannot open %s", path);
    header h;
    uint8_t raw[HEADER_BYTES];
    umi_status st = read_header(f, path, &h, raw, err);
    fclose(f);
    *n_tokens = st ? 0 : h.n_tokens;
    return st;
}

/* Everything after the header; on failure the caller empties the context. */
static umi_status load_body(umi_context *ctx, FILE *f, const char *path, const header *h,
                            const uint8_t raw[HEADER_BYTES], umi_token *tokens, uint32_t n_max,
                            umi_error *err) {
    if (h->model_bytes != ctx->model->gguf->size || h->model_crc != model_crc(ctx->model))
        return umi_err(err, UMI_ERR_ARG,
                       "%s was saved from another model (%llu-byte file, header CRC %08x; this model: "
                       "%llu bytes, %08x)", path, (unsigned long long)h->model_bytes, h->model_crc,
                       (unsigned long long)ctx->model->gguf->size, model_crc(ctx->model));
    if (h->kv_type != ctx->kv_type)
        return umi_err(err, UMI_ERR_UNSUPPORTED, "%s: cache type %s, this context caches %s", path,
                       umi_type_name(h->kv_type), umi_type_name(ctx->kv_type));
    if (h->n_tokens > ctx->n_ctx)
        return umi_err(err, UMI_ERR_CONTEXT_FULL, "%s holds %u tokens but the context holds %u", path,
                       h->n_tokens, ctx->n_ctx);
    if (h->n_tokens > n_max)
        return umi_err(err, UMI_ERR_ARG, "%s holds %u tokens, room was given for %u", path, h->n_tokens, n_max);
    umi_kv_region *rg;
    size_t n_rg;
    umi_status st = regions_of(ctx, &rg, &n_rg, err);
    if (st) return st;
    uLong crc = crc32(crc32(0L, Z_NULL, 0), raw, HEADER_BYTES);
    /* The expected size first: a truncated file is refused before anything is read into the cache. */
    uint64_t want = HEADER_BYTES + (uint64_t)h->n_regions * REGION_BYTES + (uint64_t)h->n_tokens * 4 + 4;
    if (h->n_regions != n_rg) st = umi_err(err, UMI_ERR_ARG, "%s: %u cache regions, this context has %zu", path, h->n_regions, n_rg);
    for (size_t i = 0; !st && i < n_rg; i++) {
        uint8_t d[REGION_BYTES];
        if (fread(d, 1, sizeof d, f) != sizeof d) {
            st = umi_err(err, UMI_ERR_FORMAT, "%s is truncated", path);
            break;
        }
        crc = crc32(crc, d, sizeof d);
        if (get64(d) != rg[i].row_bytes || get32(d + 8) != rows_of(&rg[i], h->n_tokens))
            st = umi_err(err, UMI_ERR_ARG, "%s: cache region %zu has another shape than this context's", path, i);
        want += (uint64_t)get32(d + 8) * get64(d);
    }
    if (!st) {
        long here = ftell(f);
        if (fseek(f, 0, SEEK_END) != 0 || (uint64_t)ftell(f) != want)
            st = umi_err(err, UMI_ERR_FORMAT, "%s is truncated or has trailing bytes (%ld bytes, %llu expected)",
                         path, ftell(f), (unsigned long long)want);
        fseek(f, here, SEEK_SET);
    }
    if (!st && fread(tokens, 4, h->n_tokens, f) != h->n_tokens) st = umi_err(err, UMI_ERR_FORMAT, "%s is truncated", path);
    if (!st) crc = crc32(crc, (const Bytef *)tokens, h->n_tokens * 4u);
    for (size_t i = 0; !st && i < n_rg; i++) {
        size_t n = (size_t)rows_of(&rg[i], h->n_tokens) * rg[i].row_bytes;
        if (fread(rg[i].data, 1, n, f) != n) st = umi_err(err, UMI_ERR_FORMAT, "%s is truncated", path);
        else crc = crc32(crc, rg[i].data, (uInt)n);
    }
    uint32_t c;
    if (!st && (fread(&c, 1, 4, f) != 4 || c != (uint32_t)crc))
        st = umi_err(err, UMI_ERR_FORMAT, "%s is corrupted (checksum mismatch)", path);
    for (uint32_t i = 0; !st && i < h->n_tokens; i++)
        if (tokens[i] < 0 || tokens[i] >= (umi_token)ctx->model->hp.n_vocab)
            st = umi_err(err, UMI_ERR_FORMAT, "%s: token %d is outside the vocabulary", path, tokens[i]);
    free(rg);
    return st;
}

umi_status umi_context_state_load(umi_context *ctx, const char *path, umi_token *tokens, uint32_t n_max,
                                  uint32_t *n_out, umi_error *err) {
    *n_out = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return umi_err(err, UMI_ERR_IO, "cannot open %s", path);
    header h;
    uint8_t raw[HEADER_BYTES];
    umi_status st = read_header(f, path, &h, raw, err);
    /* The cache is overwritten as the file is read: whatever happens, the old contents are gone. */
    ctx->n_past = 0;
    if (!st) st = load_body(ctx, f, path, &h, raw, tokens, n_max, err);
    fclose(f);
    if (st) return st;
    ctx->n_past = h.n_tokens;
    /* Region shapes matched, so the rings have this context's size: they hold
     * the last ring_cells positions (kvcache.c). */
    ctx->ring_lo = ctx->ring_cells && h.n_tokens > ctx->ring_cells ? h.n_tokens - ctx->ring_cells : 0;
    *n_out = h.n_tokens;
    return UMI_OK;
}

umi_status umi_context_copy_prefix(umi_context *dst, const umi_context *src, uint32_t n, umi_error *err) {
    if (dst == src) return umi_err(err, UMI_ERR_ARG, "copy prefix: the same context");
    if (dst->model != src->model || dst->kv_type != src->kv_type)
        return umi_err(err, UMI_ERR_ARG, "copy prefix: another model or cache type");
    if (n > src->n_past || n > dst->n_ctx)
        return umi_err(err, UMI_ERR_ARG, "copy prefix: %u positions asked, %u cached, room for %u", n,
                       src->n_past, dst->n_ctx);
    /* A ring holds the last positions modulo its size: copyable while it
     * has not wrapped, or when it ends exactly at n (then both rings must
     * be of one size, which the region shapes below check). */
    if (src->ring_cells && src->ring_lo > 0 && src->n_past != n)
        return umi_err(err, UMI_ERR_ARG, "copy prefix: the sliding-window rings have moved past position %u", n);
    umi_kv_region *rs, *rd;
    size_t ns, nd;
    umi_status st = regions_of(src, &rs, &ns, err);
    if (st) return st;
    if ((st = regions_of(dst, &rd, &nd, err))) {
        free(rs);
        return st;
    }
    for (size_t i = 0; !st && i < ns; i++)
        if (nd != ns || rd[i].row_bytes != rs[i].row_bytes || rows_of(&rd[i], n) != rows_of(&rs[i], n))
            st = umi_err(err, UMI_ERR_ARG, "copy prefix: caches laid out differently");
    for (size_t i = 0; !st && i < ns; i++) memcpy(rd[i].data, rs[i].data, (size_t)rows_of(&rs[i], n) * rs[i].row_bytes);
    if (!st) {
        dst->n_past = n;
        dst->ring_lo = dst->ring_cells && n > dst->ring_cells ? n - dst->ring_cells : 0;
    }
    free(rs);
    free(rd);
    return st;
}
