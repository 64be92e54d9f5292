/* The sampler's state, shared by sampler.c (the transforms and the draw) and
 * json_vocab.c (the JSON constraint over a vocabulary). */
#ifndef UMI_SAMPLE_SAMPLER_PRIVATE_H
#define UMI_SAMPLE_SAMPLER_PRIVATE_H

#include "sample/json_constraint.h"
#include "sample/json_schema.h"
#include "umi.h"

typedef struct cand {
    umi_token id;
    float logit;
    float p;
} cand;

/* Each token's bytes, read once when the constraint is set. */
typedef struct json_vocab {
    uint32_t *off;   /* [n_vocab + 1] into bytes; a token's piece is bytes[off[t] .. off[t+1]) */
    char *bytes;
    bool *never;     /* [n_vocab] never allowed: empty pieces and end-of-generation tokens */
} json_vocab;

struct umi_sampler {
    umi_sampler_params p;
    int32_t n_vocab;
    cand *c;           /* [n_vocab] */
    umi_token *recent; /* ring of the last repeat_last_n accepted tokens */
    int32_t n_recent, recent_head;
    uint64_t rng;
    /* JSON constraint (json_vocab.c); json is NULL when there is none. With
     * a schema, ss (its state) replaces js. */
    json_vocab *json;
    umi_json_state js;
    umi_schema *schema;
    umi_schema_state *ss;
    umi_token json_eos;
};

/* Candidate order: higher logit first, then lower id. */
int umi_cand_by_logit_desc(const void *a, const void *b);
/* Move the k best of n candidates to the front, unordered (quickselect). */
void umi_cand_select_top(cand *c, int32_t n, int32_t k);

/* Narrow s->c (all n_vocab candidates, logits final) to the tokens the
 * automaton accepts, best first, at most the number the draw can use (plus
 * s->json_eos when a complete top-level number could also go on).
 * Returns how many; 0 when the value is complete (or nothing can continue):
 * the caller ends with s->json_eos. */
int32_t umi_sampler_json_filter(umi_sampler *s);
/* Advance the automaton over an accepted token. */
void umi_sampler_json_accept(umi_sampler *s, umi_token tok);
void umi_sampler_json_free(umi_sampler *s);

#endif
