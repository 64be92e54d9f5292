/* The schema automaton's steps (nodes from json_schema.c). Structure —
 * braces, brackets, keys, commas, whitespace — is read here against the
 * frame on top of the stack; a string, number or unconstrained value is
 * handed byte by byte to the plain JSON automaton (json_constraint.c), and
 * keys and enum values are matched against their candidate texts.
 *
 * Completability is kept at every step: a key is offered only while every
 * property it skips is optional, '}' only when no required one is left, ']'
 * only at minItems, and a container opens only when its deepest required
 * content still fits under UMI_JSON_MAX_DEPTH. */
#include <string.h>

#include "sample/json_schema.h"

enum { LEX_NONE, LEX_KEY, LEX_LIT, LEX_STR, LEX_NUM, LEX_ANY };
enum {
    P_KEY_OR_CLOSE, /* object, after '{' */
    P_KEY,          /* object, after ',' */
    P_COLON,        /* object, after a key */
    P_VALUE,        /* object, after ':' */
    P_AFTER,        /* object, after a value */
    P_ITEM_OR_CLOSE, /* array, after '[' */
    P_ITEM,          /* array, after ',' */
    P_ITEM_AFTER,    /* array, after an item */
};
/* What a byte did to the scalar being read. */
enum { R_FAIL, R_OK, R_ENDED_BEFORE };

void umi_schema_state_init(umi_schema_state *st, const umi_schema *sc) {
    memset(st, 0, offsetof(umi_schema_state, fr));
    st->sc = sc;
}

void umi_schema_state_copy(umi_schema_state *dst, const umi_schema_state *src) {
    memcpy(dst, src, offsetof(umi_schema_state, fr) + (size_t)src->depth * sizeof src->fr[0]);
}

static const schema_node *node(const umi_schema_state *st, int32_t i) { return &st->sc->nodes[i]; }

/* ---------------------------------------------------------------- values */

static bool fits(const umi_schema_state *st, int32_t n) { return st->depth + node(st, n)->depth <= UMI_JSON_MAX_DEPTH; }

static bool push(umi_schema_state *st, int32_t n, uint8_t phase) {
    st->fr[st->depth++] = (schema_frame){.node = n, .phase = phase};
    return true;
}

/* Bytes of the current literal candidates: once none is longer than what
 * was read, the literal is over (a number literal with a longer one still
 * possible ends lazily, at the first byte it cannot take). */
static void lit_settle(umi_schema_state *st) {
    const schema_node *n = node(st, st->node);
    for (uint64_t m = st->mask; m; m &= m - 1)
        if (st->sc->lits[n->first + __builtin_ctzll(m)].len > st->pos) return;
    st->lex = LEX_NONE;
}

/* ---------------------------------------------------------------- bounded integers */

/* Whether an integer whose text so far is a sign (neg) and `digits` digits
 * of value mag can still end within lo..hi (final: it ends here). JSON has
 * no leading zeros, so "0" or "-0" is already whole; otherwise each further
 * digit count j gives the magnitudes mag·10^j .. (mag+1)·10^j - 1. Bounds
 * are within 1e15 (json_schema.c), so the products stay exact. */
static bool int_reachable(const schema_node *n, bool neg, uint64_t mag, int32_t digits, bool final) {
    const int64_t lo = n->lo, hi = n->hi;
    if (digits == 0) return !neg || lo < 0; /* "-": some negative value must be allowed */
    for (uint64_t scale = 1; scale <= (uint64_t)1e16; scale *= 10) {
        const uint64_t a = mag * scale, b = (mag + 1) * scale - 1;
        const int64_t from = neg ? -(int64_t)b : (int64_t)a, to = neg ? -(int64_t)a : (int64_t)b;
        if (from <= hi && to >= lo) return true;
        if (final || mag == 0 || a > (uint64_t)1e15) break;
    }
    return false;
}

/* The byte's effect on a bounded integer: '-' and digits move the value;
 * false when no completion within the bounds remains. */
static bool int_step(umi_schema_state *st, unsigned c) {
    const schema_node *n = node(st, st->node);
    if (!n->bounded) return true;
    if (c == '-') return int_reachable(n, st->neg = true, 0, 0, false);
    /* anything else the lexer takes (whitespace after a top-level number) ends it */
    if (c < '0' || c > '9') return int_reachable(n, st->neg, st->mag, st->chars, true);
    st->mag = st->mag * 10 + (c - '0');
    st->chars++;
    return int_reachable(n, st->neg, st->mag, st->chars, false);
}

/* A bounded integer may end here. */
static bool int_ends(const umi_schema_state *st) {
    const schema_node *n = node(st, st->node);
    return st->lex != LEX_NUM || n->kind != SK_INTEGER || !n->bounded ||
           int_reachable(n, st->neg, st->mag, st->chars, true);
}

/* The first byte of a value of node n (the caller has moved its frame past
 * the value already, so a scalar that ends returns there). */
static bool start_value(umi_schema_state *st, int32_t n, unsigned c) {
    if (!schema_starts(node(st, n), c)) return false;
    while (node(st, n)->kind == SK_UNION) { /* the alternative that starts with c (they differ) */
        const schema_node *u = node(st, n);
        int32_t k = 0;
        while (!schema_starts(node(st, st->sc->alts[u->first + k]), c)) k++;
        n = st->sc->alts[u->first + k];
    }
    const schema_node *nd = node(st, n);
    if (!fits(st, n)) return false;
    st->node = n;
    switch (nd->kind) {
    case SK_OBJECT: return push(st, n, P_KEY_OR_CLOSE);
    case SK_ARRAY: return push(st, n, P_ITEM_OR_CLOSE);
    case SK_LITERALS:
        st->mask = 0;
        for (int32_t k = 0; k < nd->n; k++)
            if ((unsigned char)st->sc->lits[nd->first + k].s[0] == c) st->mask |= 1ull << k;
        st->pos = 1;
        st->lex = LEX_LIT;
        lit_settle(st);
        return true;
    default: {
        const char b = (char)c;
        st->lex = nd->kind == SK_STRING ? LEX_STR : nd->kind == SK_ANY ? LEX_ANY : LEX_NUM;
        st->chars = 0, st->neg = false, st->mag = 0;
        umi_json_init(&st->sub, nd->object_only);
        if (!umi_json_feed(&st->sub, &b, 1)) return false;
        return nd->kind != SK_INTEGER || int_step(st, c);
    }
    }
}

static int lit_byte(umi_schema_state *st, unsigned c) {
    const schema_node *n = node(st, st->node);
    uint64_t next = 0;
    bool complete = false;
    for (uint64_t m = st->mask; m; m &= m - 1) {
        const int k = __builtin_ctzll(m);
        const schema_text *t = &st->sc->lits[n->first + k];
        if (t->len > st->pos && (unsigned char)t->s[st->pos] == c) next |= 1ull << k;
        complete |= t->len == st->pos;
    }
    if (!next) {
        if (!complete) return R_FAIL;
        st->lex = LEX_NONE;
        return R_ENDED_BEFORE;
    }
    st->mask = next;
    st->pos++;
    lit_settle(st);
    return R_OK;
}

/* A string: the JSON automaton reads it; its characters are counted here. */
static int str_byte(umi_schema_state *st, unsigned c) {
    const schema_node *n = node(st, st->node);
    if (umi_json_in_string(&st->sub)) {
        if (c == '"' && st->chars < n->min) return R_FAIL;
        if (c != '"' && n->max >= 0 && st->chars >= n->max) return R_FAIL;
        st->chars += c != '"';
    }
    const char b = (char)c;
    if (!umi_json_feed(&st->sub, &b, 1)) return R_FAIL;
    if (umi_json_complete(&st->sub)) st->lex = LEX_NONE;
    return R_OK;
}

/* A number or an unconstrained value: a number has no end mark, so it ends
 * at the first byte that cannot continue it (within its bounds, if any). */
static int sub_byte(umi_schema_state *st, unsigned c) {
    const bool integer = st->lex == LEX_NUM && node(st, st->node)->kind == SK_INTEGER;
    const bool refused = integer && (c == '.' || c == 'e' || c == 'E');
    const char b = (char)c;
    if (umi_json_complete(&st->sub)) {
        const umi_json_state sub = st->sub; /* what to restore if the byte ends the number */
        const bool neg = st->neg;
        const uint64_t mag = st->mag;
        const int32_t chars = st->chars;
        if (!refused && umi_json_feed(&st->sub, &b, 1) && (!integer || int_step(st, c))) return R_OK;
        st->sub = sub, st->neg = neg, st->mag = mag, st->chars = chars;
        if (!int_ends(st)) return R_FAIL;
        st->lex = LEX_NONE;
        return R_ENDED_BEFORE;
    }
    return !refused && umi_json_feed(&st->sub, &b, 1) && (!integer || int_step(st, c)) ? R_OK : R_FAIL;
}

/* ---------------------------------------------------------------- objects */

/* The properties a key may name next: from the cursor up to the first
 * required one, those whose value fits in the nesting left. */
static uint64_t key_candidates(const umi_schema_state *st, const schema_frame *f) {
    const schema_node *o = node(st, f->node);
    if (f->count >= o->n) return 0;
    const int32_t last = st->sc->props[o->first + f->count].next_required;
    uint64_t m = 0;
    for (int32_t i = f->count; i < o->n && i <= last; i++)
        if (fits(st, st->sc->props[o->first + i].node)) m |= 1ull << i;
    return m;
}

static bool may_close(const umi_schema_state *st, const schema_frame *f) {
    const schema_node *o = node(st, f->node);
    return f->count >= o->n || st->sc->props[o->first + f->count].next_required == o->n;
}

static int key_byte(umi_schema_state *st, unsigned c) {
    schema_frame *f = &st->fr[st->depth - 1];
    const schema_prop *props = st->sc->props + node(st, f->node)->first;
    uint64_t next = 0;
    for (uint64_t m = st->mask; m; m &= m - 1) {
        const int k = __builtin_ctzll(m);
        /* The escaped name matched to its end: this quote closes it (a quote
         * inside a name is escaped, so it never competes with this). */
        if (c == '"' && props[k].name.len == st->pos) {
            f->prop = (uint8_t)k;
            st->lex = LEX_NONE;
            return R_OK;
        }
        if (props[k].name.len > st->pos && (unsigned char)props[k].name.s[st->pos] == c) next |= 1ull << k;
    }
    st->mask = next;
    st->pos++;
    return next ? R_OK : R_FAIL;
}

static bool object_byte(umi_schema_state *st, schema_frame *f, unsigned c) {
    switch (f->phase) {
    case P_KEY_OR_CLOSE:
        if (c == '}') break;
        /* fall through */
    case P_KEY:
        if (c != '"' || !(st->mask = key_candidates(st, f))) return false;
        st->lex = LEX_KEY;
        st->pos = 0;
        f->phase = P_COLON;
        return true;
    case P_COLON:
        f->phase = P_VALUE;
        return c == ':';
    case P_VALUE:
        f->phase = P_AFTER;
        f->count = f->prop + 1;
        return start_value(st, st->sc->props[node(st, f->node)->first + f->prop].node, c);
    case P_AFTER:
        if (c == ',') {
            f->phase = P_KEY;
            return key_candidates(st, f) != 0;
        }
        if (c != '}') return false;
        break;
    default: return false;
    }
    if (!may_close(st, f)) return false; /* '}' */
    st->depth--;
    return true;
}

static bool array_byte(umi_schema_state *st, schema_frame *f, unsigned c) {
    const schema_node *a = node(st, f->node);
    const bool more = (a->max < 0 || f->count < a->max) && fits(st, a->items);
    switch (f->phase) {
    case P_ITEM_OR_CLOSE:
        if (c == ']') break;
        /* fall through */
    case P_ITEM:
        if (!more) return false;
        f->count++;
        f->phase = P_ITEM_AFTER;
        return start_value(st, a->items, c);
    case P_ITEM_AFTER:
        if (c == ',') {
            f->phase = P_ITEM;
            return more;
        }
        if (c != ']') return false;
        break;
    default: return false;
    }
    if (f->count < a->min) return false; /* ']' */
    st->depth--;
    return true;
}

/* ---------------------------------------------------------------- bytes */

static bool step(umi_schema_state *st, unsigned c) {
    for (;;) {
        int r;
        switch (st->lex) {
        case LEX_KEY: return key_byte(st, c) == R_OK;
        case LEX_STR: return str_byte(st, c) == R_OK;
        case LEX_LIT: r = lit_byte(st, c); break;
        case LEX_NUM:
        case LEX_ANY: r = sub_byte(st, c); break;
        default:
            /* Structure. The document starts at its first byte and ends at
             * its last (no whitespace around it, as in the json_object mode). */
            if (st->depth == 0) {
                if (st->started) return false;
                st->started = true;
                return start_value(st, st->sc->root, c);
            }
            if (umi_json_is_ws(c)) return umi_json_ws_run(&st->ws, &st->nl, c); /* bounded as json_constraint.c does */
            st->ws = st->nl = 0;
            schema_frame *f = &st->fr[st->depth - 1];
            return node(st, f->node)->kind == SK_OBJECT ? object_byte(st, f, c) : array_byte(st, f, c);
        }
        if (r != R_ENDED_BEFORE) return r == R_OK;
    }
}

bool umi_schema_feed(umi_schema_state *st, const char *bytes, size_t n) {
    if (st->dead) return false;
    for (size_t i = 0; i < n; i++)
        if (!step(st, (unsigned char)bytes[i])) {
            st->dead = true;
            return false;
        }
    return true;
}

bool umi_schema_complete(const umi_schema_state *st) {
    if (st->dead || !st->started || st->depth > 0) return false;
    switch (st->lex) {
    case LEX_NONE: return true;
    case LEX_NUM:
    case LEX_ANY: return umi_json_complete(&st->sub) && int_ends(st);
    case LEX_LIT: {
        const schema_node *n = node(st, st->node);
        for (uint64_t m = st->mask; m; m &= m - 1)
            if (st->sc->lits[n->first + __builtin_ctzll(m)].len == st->pos) return true;
        return false;
    }
    default: return false;
    }
}

bool umi_schema_open_ended(const umi_schema_state *st) {
    if (!umi_schema_complete(st)) return false;
    if (st->lex == LEX_NUM && node(st, st->node)->kind == SK_INTEGER && node(st, st->node)->bounded) {
        bool more = false; /* a further digit that stays within the bounds */
        for (unsigned d = 0; d < 10 && st->mag != 0 && !more; d++)
            more = int_reachable(node(st, st->node), st->neg, st->mag * 10 + d, st->chars + 1, false);
        return more;
    }
    return st->lex == LEX_LIT || ((st->lex == LEX_NUM || st->lex == LEX_ANY) && !umi_json_closed(&st->sub));
}
