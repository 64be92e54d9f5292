/* Q8_0's AVX-512 VNNI tile (q8_0_tile.h): every output has exactly the bits
 * of umi_dot_q8_0_lanes8 (tests/unit/test_kernels_x86_legacy.c, through the
 * legacy family's tile lookup in x86_legacy.c). */
#include "kernels/q8_0_tile.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"
#include "quant/blocks.h"

#define VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512dq,avx2,fma,f16c")))

/* hsum8 of legacy.c ((l + l+4), then (0+2) + (1+3)) of 8 vectors at once,
 * the same additions in other lanes: result lane i is the sum of v[i] when
 * v holds them in the order 0 4 1 5 2 6 3 7. */
VNNI512 static inline __m256 hsum8x8_ps(const __m256 v[8]) {
    __m256 s[4]; /* [v[2i] halves summed | v[2i+1] halves summed] */
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 4; i++)
        s[i] = _mm256_add_ps(_mm256_permute2f128_ps(v[2 * i], v[2 * i + 1], 0x20),
                             _mm256_permute2f128_ps(v[2 * i], v[2 * i + 1], 0x31));
    __m256 u[2]; /* per half: (0+2), (1+3) of two vectors */
    _Pragma("GCC unroll 2")
    for (int i = 0; i < 2; i++)
        u[i] = _mm256_add_ps(_mm256_shuffle_ps(s[2 * i], s[2 * i + 1], 0x44),
                             _mm256_shuffle_ps(s[2 * i], s[2 * i + 1], 0xee));
    return _mm256_add_ps(_mm256_shuffle_ps(u[0], u[1], 0x88), _mm256_shuffle_ps(u[0], u[1], 0xdd));
}

/* Q8_0 in lanes8 order, 64 rows x 8 tokens per call. One ymm register
 * holds the 8 float lanes of one (row, token); a pass keeps 4 rows x 4
 * tokens of them and takes, per block and (row, token): the lane sums by
 * dpbusd (weights' bytes as unsigned w + 128, a xor; tokens' as they are;
 * each lane starting from -128 x its 4 activations' sum, so the sums are
 * legacy.c's lane_sums), their conversion, and a fused multiply-add whose
 * scale dw * dx (exact in fp32) is a broadcast load from a table of the
 * block's products. On Zen 4 the dpbusd and multiply-add fill the two
 * multiply pipes; a broadcast load takes no vector pipe, where a permute
 * per step (the scale moved into place from a register) measured ~15 %
 * slower.
 *
 * Blocks go in chunks whose layout stays in L1: per block the 8 tokens'
 * bytes, lane corrections and scales dx, laid out once per call (for 64
 * rows, which measured ~4 % faster than 32), and the products of 4 rows x
 * 8 tokens. The products of the next 4 rows are made during the current
 * rows' passes, into the other half of a double buffer, where their few
 * multiplies hide among the passes' work; made just before their use (the
 * loads then wait on the stores) or in a pass of their own, the tile
 * measured 12-15 % slower. The 64 x 8 sums stay in memory between chunks.
 * Missing rows and tokens repeat the last one and are not stored; one
 * token alone takes the dot. */
enum {
    Q8T_M = UMI_Q8_0_TILE_M,
    Q8T_N = UMI_Q8_0_TILE_N,
    Q8T_RB = 4, /* rows per pass */
    Q8T_TB = 4, /* tokens per pass */
    Q8T_CHUNK = 16,
    QK = 32,
    BLK = sizeof(umi_block_q8_0),
};

_Static_assert(Q8T_N == 8, "the layout converts the 8 tokens' scales in one vector");

/* One block of the chunk's layout. */
typedef struct q8t_block {
    __m256i x[Q8T_N];                /* tokens' bytes */
    __m256i corr[Q8T_N];             /* -128 x each lane's 4 token bytes summed */
    float dx[Q8T_N];                 /* tokens' scales */
    float prod[2][Q8T_RB][Q8T_N];    /* [row quad parity][row]: dw * dx of each token */
} q8t_block;

/* prod[t] = dw(block at wblk) * dx[t] for the 8 tokens. */
VNNI512 static inline void q8t_products(const char *wblk, const float *dx, float *prod) {
    uint16_t d;
    memcpy(&d, wblk, sizeof d);
    _mm256_store_ps(prod, _mm256_mul_ps(_mm256_cvtph_ps(_mm_set1_epi16((short)d)), _mm256_load_ps(dx)));
}

/* Rows w[0..3] (at the chunk's first block) x tokens 4t..4t+3 over nc
 * blocks into acc, reading products of parity `cur`; also makes the
 * products of rows nw[0..1] (the next quad's rows 2t, 2t+1) in parity
 * 1 - cur. Inlined with constant t and cur so every table access is a
 * fixed offset from the block pointer (otherwise GCC keeps a pointer per
 * access and spills them). */
VNNI512 static inline __attribute__((always_inline)) void q8t_pass(const char *const w[Q8T_RB], q8t_block *lay,
                                                                   int nc, int t, int cur, const char *const *nw,
                                                                   int np, ptrdiff_t pfo, __m256 acc[Q8T_RB][Q8T_TB]) {
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    __m256 a[Q8T_RB][Q8T_TB];
    _Pragma("GCC unroll 4")
    for (int r = 0; r < Q8T_RB; r++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < Q8T_TB; j++) a[r][j] = acc[r][j];
    for (int c = 0; c < nc; c++) {
        q8t_block *b = &lay[c];
        const size_t o = (size_t)c * BLK;
        _Pragma("GCC unroll 4")
        for (int i = 0; i < np; i++) q8t_products(nw[i] + o, b->dx, b->prod[1 - cur][2 * t + i]);
        __m256i wu[Q8T_RB], xj[Q8T_TB], cj[Q8T_TB];
        _Pragma("GCC unroll 4")
        for (int r = 0; r < Q8T_RB; r++) {
            wu[r] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w[r] + o + 2)), flip);
            if (t == 0) _mm_prefetch(w[r] + o + pfo, _MM_HINT_T1);
        }
        _Pragma("GCC unroll 4")
        for (int j = 0; j < Q8T_TB; j++) {
            xj[j] = b->x[Q8T_TB * t + j];
            cj[j] = b->corr[Q8T_TB * t + j];
            /* in registers: folded into each dpbusd they are loaded 4 times */
            __asm__("" : "+v"(xj[j]), "+v"(cj[j]));
        }
        _Pragma("GCC unroll 4")
        for (int j = 0; j < Q8T_TB; j++)
            _Pragma("GCC unroll 4")
            for (int r = 0; r < Q8T_RB; r++) {
                const __m256i sums = _mm256_dpbusd_epi32(cj[j], wu[r], xj[j]);
                const __m256 d = _mm256_broadcast_ss(&b->prod[cur][r][Q8T_TB * t + j]);
                a[r][j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sums), a[r][j]);
            }
    }
    _Pragma("GCC unroll 4")
    for (int r = 0; r < Q8T_RB; r++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < Q8T_TB; j++) acc[r][j] = a[r][j];
}

/* The 4 rows of quad q at block b0, the last row repeated past rm. */
static inline void q8t_quad_rows(const char *w, size_t ws, int rm, int q, int b0, const char *wr[Q8T_RB]) {
    for (int i = 0; i < Q8T_RB; i++) {
        const int r = Q8T_RB * q + i < rm ? Q8T_RB * q + i : rm - 1;
        wr[i] = w + (size_t)r * ws + (size_t)b0 * BLK;
    }
}

VNNI512 void umi_tile_q8_0_vnni(int k, const void *vw, size_t ws, int rm, const void *vx, size_t xs, int rn,
                                float *y, size_t ys) {
    if (rn == 1) {
        for (int i = 0; i < rm; i++) y[i] = umi_dot_q8_0_avx2(k, (const char *)vw + i * ws, vx);
        return;
    }
    const char *w = vw, *x = vx;
    const int nb = k / QK, nq = (rm + Q8T_RB - 1) / Q8T_RB;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    q8t_block lay[Q8T_CHUNK] __attribute__((aligned(64)));
    __m256 acc[Q8T_M / Q8T_RB][Q8T_N / Q8T_TB][Q8T_RB][Q8T_TB]; /* [quad][token quad][row][token] */
    for (int q = 0; q < nq; q++)
        for (int t = 0; t < Q8T_N / Q8T_TB; t++)
            for (int r = 0; r < Q8T_RB; r++)
                for (int j = 0; j < Q8T_TB; j++) acc[q][t][r][j] = _mm256_setzero_ps();
    for (int b0 = 0; b0 < nb; b0 += Q8T_CHUNK) {
        const int nc = nb - b0 < Q8T_CHUNK ? nb - b0 : Q8T_CHUNK;
        const umi_block_q8_0 *xb[Q8T_N];
        for (int j = 0; j < Q8T_N; j++) xb[j] = (const umi_block_q8_0 *)(x + (j < rn ? j : rn - 1) * xs) + b0;
        const char *wr[Q8T_RB], *nwr[Q8T_RB];
        /* prefetch offset from a block: the row's next chunk, or past the
         * last one, the first chunk of the row 64 below (the next call's) */
        const ptrdiff_t pfo = b0 + nc < nb ? Q8T_CHUNK * BLK : (ptrdiff_t)(Q8T_M * ws) - (ptrdiff_t)b0 * BLK;
        q8t_quad_rows(w, ws, rm, 0, b0, wr);
        for (int c = 0; c < nc; c++) {
            _Pragma("GCC unroll 8")
            for (int j = 0; j < Q8T_N; j++) {
                const __m256i v = _mm256_loadu_si256((const __m256i *)xb[j][c].qs);
                lay[c].x[j] = v;
                lay[c].corr[j] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                                  _mm256_dpbusd_epi32(_mm256_setzero_si256(), flip, v));
            }
            const __m128i d = _mm_setr_epi16((short)xb[0][c].d, (short)xb[1][c].d, (short)xb[2][c].d,
                                             (short)xb[3][c].d, (short)xb[4][c].d, (short)xb[5][c].d,
                                             (short)xb[6][c].d, (short)xb[7][c].d);
            _mm256_store_ps(lay[c].dx, _mm256_cvtph_ps(d));
            _Pragma("GCC unroll 4")
            for (int r = 0; r < Q8T_RB; r++) q8t_products(wr[r] + (size_t)c * BLK, lay[c].dx, lay[c].prod[0][r]);
        }
        for (int q = 0; q < nq; q++) {
            /* the last quad makes products of itself, unused */
            q8t_quad_rows(w, ws, rm, q + 1 < nq ? q + 1 : q, b0, nwr);
            if (rn <= Q8T_TB && q % 2) {
                q8t_pass(wr, lay, nc, 0, 1, nwr, 4, pfo, acc[q][0]);
            } else if (rn <= Q8T_TB) {
                q8t_pass(wr, lay, nc, 0, 0, nwr, 4, pfo, acc[q][0]);
            } else if (q % 2) {
                q8t_pass(wr, lay, nc, 0, 1, nwr, 2, pfo, acc[q][0]);
                q8t_pass(wr, lay, nc, 1, 1, nwr + 2, 2, pfo, acc[q][1]);
            } else {
                q8t_pass(wr, lay, nc, 0, 0, nwr, 2, pfo, acc[q][0]);
                q8t_pass(wr, lay, nc, 1, 0, nwr + 2, 2, pfo, acc[q][1]);
            }
            memcpy(wr, nwr, sizeof wr);
        }
    }
    /* 8 rows of a token at a time: rows 8g + 0 4 1 5 2 6 3 7 in, in order out */
    static const int ORDER[8] = {0, 4, 1, 5, 2, 6, 3, 7};
    for (int g = 0; 8 * g < rm; g++)
        for (int j = 0; j < rn; j++) {
            __m256 v[8];
            _Pragma("GCC unroll 8")
            for (int i = 0; i < 8; i++) {
                const int r = 8 * g + ORDER[i] < rm ? 8 * g + ORDER[i] : rm - 1; /* past rm: not stored */
                v[i] = acc[r / Q8T_RB][j / Q8T_TB][r % Q8T_RB][j % Q8T_TB];
            }
            const int n = rm - 8 * g < 8 ? rm - 8 * g : 8;
            _mm256_mask_storeu_ps(y + j * ys + 8 * g, (__mmask8)((1u << n) - 1), hsum8x8_ps(v));
        }
}

#endif
