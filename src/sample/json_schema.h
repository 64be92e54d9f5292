/* JSON Schema as a byte automaton: a schema (a documented subset of JSON
 * Schema 2020-12, see docs/SERVER.md "Structured output") is compiled once
 * into a graph of nodes (json_schema.c); the state (json_schema_step.c) is a
 * stack of container frames over that graph plus the one scalar being read,
 * whose strings and numbers are lexed by the plain JSON automaton
 * (json_constraint.c). Every prefix the state accepts can still be finished
 * as a value that validates against the schema. */
#ifndef UMI_SAMPLE_JSON_SCHEMA_H
#define UMI_SAMPLE_JSON_SCHEMA_H

#include <cjson/cJSON.h>

#include "sample/json_constraint.h"
#include "umi.h"

/* enum/const values of one schema, and properties of one object: a state
 * tracks the ones still matching in one 64-bit mask. */
#define UMI_SCHEMA_MAX_SET 64
#define UMI_SCHEMA_MAX_NODES 4096

typedef enum schema_kind {
    SK_OBJECT,   /* properties in order, required ones always, no other keys */
    SK_ARRAY,    /* items, min..max of them */
    SK_STRING,   /* min..max characters (code points) */
    SK_NUMBER,
    SK_INTEGER,  /* a number without fraction or exponent */
    SK_LITERALS, /* one of a set of JSON texts: enum, const, boolean, null */
    SK_ANY,      /* any JSON value (any object when object_only) */
    SK_UNION,    /* anyOf/oneOf/a type list: the first byte picks the alternative */
} schema_kind;

typedef struct schema_node {
    uint8_t kind;
    bool object_only;  /* SK_ANY */
    int32_t first, n;  /* SK_OBJECT: props[first..+n); SK_LITERALS: lits[..]; SK_UNION: alts[..] */
    int32_t items;     /* SK_ARRAY: the items' node */
    int32_t min, max;  /* SK_STRING: characters, SK_ARRAY: items; max < 0: no limit */
    bool bounded;      /* SK_INTEGER: only lo..hi (minimum, maximum, exclusive ones) */
    int64_t lo, hi;
    int32_t depth;     /* the fewest nested containers a value of this node needs */
    uint64_t start[4]; /* the bytes a value can begin with, a 256-bit set */
} schema_node;

typedef struct schema_text {
    char *s;           /* JSON text: a literal, or a property name escaped without its quotes */
    uint32_t len;
} schema_text;

typedef struct schema_prop {
    schema_text name;
    int32_t node;
    int32_t next_required; /* within its object: the first required property at or after this one (n: none) */
} schema_prop;

struct umi_schema {
    schema_node *nodes;
    schema_prop *props;
    schema_text *lits;
    int32_t *alts;
    int32_t n_nodes, n_props, n_lits, n_alts;
    int32_t root;
};
typedef struct umi_schema umi_schema;

/* Compile a parsed schema. On failure err names the unsupported keyword or
 * the bad value and where it is (a JSON pointer into the schema). */
umi_status umi_schema_compile(const cJSON *schema, umi_schema **out, umi_error *err);
void umi_schema_free(umi_schema *sc);

static inline bool schema_starts(const schema_node *n, unsigned c) { return (n->start[c >> 6] >> (c & 63)) & 1; }

/* ---------------------------------------------------------------- state */

typedef struct schema_frame {
    int32_t node;   /* an SK_OBJECT or SK_ARRAY */
    int32_t count;  /* object: the next property's index; array: items so far */
    uint8_t phase;
    uint8_t prop;   /* object: the property whose key was read */
} schema_frame;

typedef struct umi_schema_state {
    const umi_schema *sc;
    int16_t depth;    /* open containers: fr[0 .. depth) */
    uint8_t lex;      /* what the current bytes are: structure, a key, a literal, a string, ... */
    uint8_t ws, nl;   /* whitespace in a row (as json_constraint.c bounds it) */
    bool started;     /* the top-level value has begun */
    bool dead;
    uint16_t pos;     /* key, literal: bytes matched */
    int32_t node;     /* the node of the scalar being read */
    int32_t chars;    /* string: characters so far; bounded integer: digits so far */
    bool neg;         /* bounded integer: a minus sign was read */
    uint64_t mag;     /* bounded integer: the digits' value so far */
    uint64_t mask;    /* key, literal: the candidates still matching */
    umi_json_state sub; /* string, number, any value: its lexer */
    schema_frame fr[UMI_JSON_MAX_DEPTH];
} umi_schema_state;

void umi_schema_state_init(umi_schema_state *st, const umi_schema *sc);
/* Copy the live part of a state (the frames in use), for trying a token. */
void umi_schema_state_copy(umi_schema_state *dst, const umi_schema_state *src);
/* Advance over n bytes; false (and st->dead) when no continuation can
 * validate. A dead state stays dead. */
bool umi_schema_feed(umi_schema_state *st, const char *bytes, size_t n);
/* The text so far is one complete value valid against the schema. */
bool umi_schema_complete(const umi_schema_state *st);
/* Complete, yet more bytes could still extend the value (a top-level
 * number or number literal: "1" may become "12"). */
bool umi_schema_open_ended(const umi_schema_state *st);

#endif
