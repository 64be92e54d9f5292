/* A byte-level pushdown automaton for JSON (RFC 8259): the sampler feeds it
 * each candidate token's bytes and drops the tokens that would make the text
 * impossible to finish as valid JSON. The state is a small value type, so
 * trying a token is a copy plus a few byte steps. */
#ifndef UMI_SAMPLE_JSON_CONSTRAINT_H
#define UMI_SAMPLE_JSON_CONSTRAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is refused (one bit per level: object or array). */
#define UMI_JSON_MAX_DEPTH 64
/* Whitespace bytes in a row outside strings (with one line break), and bytes
 * in one number: bounded so a constrained model cannot emit them forever. */
#define UMI_JSON_MAX_WS 24
#define UMI_JSON_MAX_NUM 48

typedef struct umi_json_state {
    uint64_t stack;      /* bit i set: level i is an object, clear: an array */
    int16_t depth;       /* open containers */
    uint8_t mode;        /* what the next byte may be (json_constraint.c) */
    uint8_t aux;         /* per mode: literal index, hex digits, UTF-8 bytes left, number length */
    uint8_t lit;         /* which literal (true/false/null) */
    uint8_t ws;          /* whitespace bytes in a row */
    uint8_t nl;          /* line breaks among them: 1 = \n, 2 = \r */
    uint8_t lo, hi;      /* the range of the next UTF-8 continuation byte */
    uint16_t hex;        /* the \u escape read so far */
    bool key;            /* the string being read is an object key */
    bool low;            /* the \u escape being read must be a low surrogate */
    bool object_only;    /* the top-level value must be an object */
    bool dead;           /* no continuation can be valid JSON */
} umi_json_state;

void umi_json_init(umi_json_state *st, bool object_only);
/* Advance over n bytes. false (and st->dead) when they cannot be part of
 * valid JSON; a dead state stays dead. */
bool umi_json_feed(umi_json_state *st, const char *bytes, size_t n);
/* The text so far is one complete JSON value (a top-level number counts as
 * complete when it could end here). */
bool umi_json_complete(const umi_json_state *st);
/* Complete, and no byte may follow (a number may still grow while complete). */
bool umi_json_closed(const umi_json_state *st);
/* JSON's four whitespace bytes. */
bool umi_json_is_ws(unsigned c);
/* One more whitespace byte c in a run counted by *ws and *nl (zero them
 * when the run starts): false past UMI_JSON_MAX_WS bytes or a second line
 * break, enough for any indentation style, not enough for a model to stall
 * on blank lines. */
bool umi_json_ws_run(uint8_t *ws, uint8_t *nl, unsigned c);
/* Inside a string, between characters: the next byte begins a character
 * (or is the closing quote). The schema automaton counts lengths by it. */
bool umi_json_in_string(const umi_json_state *st);

#endif
