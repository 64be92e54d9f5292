/* test_sampler — the sampler's candidate pruning (src/sample/sampler.c).
 *
 * Without top-k, a large vocabulary is not sorted whole: min-p bounds what
 * can be drawn, so only tokens near that bound are sorted, while top-p's
 * mass still counts every token. The draws must be those of sorting all
 * candidates: the same sampler with top_k = n_vocab - 1 (which sorts all
 * but a worst token of zero probability) must draw the same tokens, seed
 * by seed, for peaked and flat distributions and with top-p on or off.
 * Also: every draw respects min-p, and greedy picks the argmax. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "testkit.h"
#include "umi.h"

enum { NV = 4096, DRAWS = 400 };

static void fill_logits(float *l, float spread) {
    for (int i = 0; i < NV; i++) l[i] = spread * rng_signed();
    l[NV - 1] = -1000.0f; /* zero probability: dropped by top_k = NV - 1, kept otherwise */
}

static void compare(float spread, float top_p) {
    float *l = xmalloc(sizeof(float) * NV);
    fill_logits(l, spread);
    float lmax = l[0];
    for (int i = 1; i < NV; i++) lmax = l[i] > lmax ? l[i] : lmax;
    umi_sampler_params p = umi_sampler_default_params();
    p.temp = 0.9f, p.top_p = top_p, p.min_p = 0.05f, p.repeat_penalty = 1.0f;
    int same = 0, below = 0;
    for (int d = 0; d < DRAWS; d++) {
        p.seed = 1000 + (uint64_t)d;
        p.top_k = 0;
        umi_sampler *a = umi_sampler_init(&p, NV);
        p.top_k = NV - 1;
        umi_sampler *b = umi_sampler_init(&p, NV);
        const umi_token ta = umi_sampler_sample(a, l), tb = umi_sampler_sample(b, l);
        same += ta == tb;
        below += expf(l[ta] - lmax) < 0.05f * 0.999f; /* min-p's bound, with float slack */
        umi_sampler_free(a), umi_sampler_free(b);
    }
    check(same == DRAWS, "spread %.0f top_p %.2f: pruned draws equal full-sort draws (%d of %d)", spread, top_p,
          same, DRAWS);
    check(below == 0, "spread %.0f top_p %.2f: no draw below min-p (%d)", spread, top_p, below);
    free(l);
}

int main(void) {
    compare(2.0f, 0.95f);  /* flat: many candidates survive */
    compare(12.0f, 0.95f); /* peaked */
    compare(4.0f, 1.0f);   /* top-p off */
    float *l = xmalloc(sizeof(float) * NV);
    fill_logits(l, 3.0f);
    int best = 0;
    for (int i = 1; i < NV; i++) best = l[i] > l[best] ? i : best;
    umi_sampler_params p = umi_sampler_default_params();
    p.temp = 0.0f, p.top_k = 0;
    umi_sampler *g = umi_sampler_init(&p, NV);
    check(umi_sampler_sample(g, l) == best, "greedy picks the argmax");
    /* Ties go to the lowest id (also across the 8-lane split), a NaN never
     * wins, a NaN first logit keeps id 0, short vocabularies work. */
    for (int i = 0; i < NV; i++) l[i] = (float)(i % 97);
    l[1000] = 500.0f, l[3001] = 500.0f, l[7] = NAN;
    check(umi_sampler_sample(g, l) == 1000, "greedy: first of tied maxima, NaN skipped");
    l[0] = NAN;
    check(umi_sampler_sample(g, l) == 0, "greedy: a NaN first logit stays the pick, as x > NaN never holds");
    umi_sampler_free(g);
    for (int n = 1; n <= 20; n++) {
        umi_sampler *h = umi_sampler_init(&p, n);
        float v[20];
        for (int i = 0; i < n; i++) v[i] = (float)((i * 7) % 5) - (i == n - 1 ? -9.0f : 0.0f);
        check(umi_sampler_sample(h, v) == n - 1, "greedy over %d logits", n);
        umi_sampler_free(h);
    }
    free(l);
    printf("test_sampler: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
