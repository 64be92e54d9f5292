/* JSON as a pushdown automaton over bytes (RFC 8259 grammar; UTF-8 per
 * RFC 3629 table 1, so overlong forms and surrogate code points are refused).
 * A \u escape of a high surrogate must be followed by a \u low surrogate and a
 * lone low surrogate is refused: strict parsers (cJSON among them) reject
 * both, and the point of constraining is output every parser accepts. */
#include "sample/json_constraint.h"

enum {
    M_VALUE,          /* a value (after ':' or ',' in an array, or at the top) */
    M_VALUE_OR_CLOSE, /* after '[' */
    M_KEY_OR_CLOSE,   /* after '{' */
    M_KEY,            /* after ',' in an object */
    M_COLON,          /* after a key */
    M_AFTER,          /* after a value inside a container: ',' or the closer */
    M_STR,            /* inside a string */
    M_ESC,            /* after '\' */
    M_HEX,            /* in \uXXXX, aux = digits read */
    M_LOW_BS,         /* after a high surrogate: '\' */
    M_LOW_U,          /* after a high surrogate and '\': 'u' */
    M_UTF,            /* inside a multi-byte character, aux = bytes left */
    M_LIT,            /* inside true/false/null, aux = bytes matched */
    M_NUM_MINUS,      /* "-" */
    M_NUM_ZERO,       /* "0" or "-0" */
    M_NUM_INT,        /* integer digits */
    M_NUM_DOT,        /* "1." */
    M_NUM_FRAC,       /* "1.5" */
    M_NUM_E,          /* "1e" */
    M_NUM_ESIGN,      /* "1e+" */
    M_NUM_EXP,        /* "1e5" */
    M_DONE,           /* a complete top-level value; nothing may follow */
};

static const char *const LITERALS[3] = {"true", "false", "null"};

void umi_json_init(umi_json_state *st, bool object_only) {
    *st = (umi_json_state){.mode = M_VALUE, .object_only = object_only};
}

bool umi_json_is_ws(unsigned c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool is_digit(unsigned c) { return c >= '0' && c <= '9'; }

static int hex_val(unsigned c) {
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
    return -1;
}

static bool top_is_object(const umi_json_state *st) { return (st->stack >> (st->depth - 1)) & 1; }

/* A value just ended: back to its container, or done at the top. */
static void value_done(umi_json_state *st) { st->mode = st->depth == 0 ? M_DONE : M_AFTER; }

static bool open_container(umi_json_state *st, bool object) {
    if (st->depth >= UMI_JSON_MAX_DEPTH) return false;
    if (object) st->stack |= 1ull << st->depth;
    else st->stack &= ~(1ull << st->depth);
    st->depth++;
    st->mode = object ? M_KEY_OR_CLOSE : M_VALUE_OR_CLOSE;
    return true;
}

static bool close_container(umi_json_state *st, unsigned c) {
    if (st->depth == 0 || (c == '}') != top_is_object(st)) return false;
    st->depth--;
    value_done(st);
    return true;
}

/* The first byte of a value. */
static bool start_value(umi_json_state *st, unsigned c) {
    if (st->depth == 0 && st->object_only) return c == '{' && open_container(st, true);
    st->aux = 1;
    switch (c) {
    case '{': return open_container(st, true);
    case '[': return open_container(st, false);
    case '"': st->mode = M_STR; st->key = false; return true;
    case '-': st->mode = M_NUM_MINUS; return true;
    case '0': st->mode = M_NUM_ZERO; return true;
    case 't': st->lit = 0; st->mode = M_LIT; return true;
    case 'f': st->lit = 1; st->mode = M_LIT; return true;
    case 'n': st->lit = 2; st->mode = M_LIT; return true;
    default:
        if (c >= '1' && c <= '9') {
            st->mode = M_NUM_INT;
            return true;
        }
        return false;
    }
}

/* The lead byte of a multi-byte character: how many bytes follow and the
 * range of the first of them (RFC 3629, table in section 4). */
static bool utf8_lead(umi_json_state *st, unsigned c) {
    st->lo = 0x80, st->hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) st->aux = 1;
    else if (c == 0xE0) st->aux = 2, st->lo = 0xA0;
    else if (c == 0xED) st->aux = 2, st->hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) st->aux = 2;
    else if (c == 0xF0) st->aux = 3, st->lo = 0x90;
    else if (c == 0xF4) st->aux = 3, st->hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) st->aux = 3;
    else return false;
    st->mode = M_UTF;
    return true;
}

static bool string_byte(umi_json_state *st, unsigned c) {
    if (c == '"') {
        if (st->key) st->mode = M_COLON;
        else value_done(st);
        return true;
    }
    if (c == '\\') {
        st->mode = M_ESC;
        return true;
    }
    if (c < 0x20) return false; /* control characters must be escaped */
    if (c < 0x80) return true;
    return utf8_lead(st, c);
}

/* A \u escape is complete: pair surrogates, refuse lone ones. */
static bool hex_done(umi_json_state *st) {
    const unsigned v = st->hex;
    const bool high = v >= 0xD800 && v <= 0xDBFF, low = v >= 0xDC00 && v <= 0xDFFF;
    if (st->low) {
        st->low = false;
        if (!low) return false;
        st->mode = M_STR;
        return true;
    }
    if (low) return false;
    if (high) {
        st->low = true;
        st->mode = M_LOW_BS;
        return true;
    }
    st->mode = M_STR;
    return true;
}

/* A byte inside a number; a byte that cannot continue it ends the number
 * (when it may end here) and is then read by the enclosing state. */
static bool number_byte(umi_json_state *st, unsigned c, bool *again) {
    const bool continues = is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
    if (st->aux >= UMI_JSON_MAX_NUM && continues) return false;
    st->aux++;
    switch (st->mode) {
    case M_NUM_MINUS:
        if (c == '0') st->mode = M_NUM_ZERO;
        else if (c >= '1' && c <= '9') st->mode = M_NUM_INT;
        else return false;
        return true;
    case M_NUM_INT:
        if (is_digit(c)) return true;
        /* fall through */
    case M_NUM_ZERO:
    case M_NUM_FRAC:
        if (st->mode == M_NUM_FRAC && is_digit(c)) return true;
        if (c == '.' && st->mode != M_NUM_FRAC) {
            st->mode = M_NUM_DOT;
            return true;
        }
        if (c == 'e' || c == 'E') {
            st->mode = M_NUM_E;
            return true;
        }
        break;
    case M_NUM_DOT:
        if (!is_digit(c)) return false;
        st->mode = M_NUM_FRAC;
        return true;
    case M_NUM_E:
        if (c == '+' || c == '-') {
            st->mode = M_NUM_ESIGN;
            return true;
        }
        /* fall through */
    case M_NUM_ESIGN:
        if (!is_digit(c)) return false;
        st->mode = M_NUM_EXP;
        return true;
    case M_NUM_EXP:
        if (is_digit(c)) return true;
        break;
    default:
        return false;
    }
    /* The number ended before c. */
    value_done(st);
    *again = true;
    return true;
}

/* Whitespace where the grammar allows it (the bound: json_constraint.h). */
bool umi_json_ws_run(uint8_t *ws, uint8_t *nl, unsigned c) {
    if (c == '\n' || c == '\r') {
        const uint8_t bit = c == '\n' ? 1 : 2;
        if (*nl & bit) return false;
        *nl |= bit;
    }
    return ++*ws <= UMI_JSON_MAX_WS;
}

static bool ws_byte(umi_json_state *st, unsigned c) { return umi_json_ws_run(&st->ws, &st->nl, c); }

static bool step(umi_json_state *st, unsigned c) {
    bool again = false;
    for (;;) {
        bool ok;
        const bool structural = st->mode <= M_AFTER;
        /* An object-only document starts at its '{' (as llama.cpp's json grammar does). */
        if (structural && umi_json_is_ws(c)) return !(st->object_only && st->depth == 0) && ws_byte(st, c);
        if (structural) st->ws = st->nl = 0;
        switch (st->mode) {
        case M_VALUE: ok = start_value(st, c); break;
        case M_VALUE_OR_CLOSE: ok = c == ']' ? close_container(st, c) : start_value(st, c); break;
        case M_KEY_OR_CLOSE:
            if (c == '}') {
                ok = close_container(st, c);
                break;
            }
            /* fall through */
        case M_KEY:
            ok = c == '"';
            st->mode = M_STR;
            st->key = true;
            break;
        case M_COLON:
            ok = c == ':';
            st->mode = M_VALUE;
            break;
        case M_AFTER:
            if (c == ',') {
                st->mode = top_is_object(st) ? M_KEY : M_VALUE;
                ok = true;
            } else {
                ok = (c == '}' || c == ']') && close_container(st, c);
            }
            break;
        case M_STR: ok = string_byte(st, c); break;
        case M_ESC:
            if (c == 'u') {
                st->mode = M_HEX;
                st->aux = 0;
                st->hex = 0;
                ok = true;
            } else {
                ok = c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
                     c == 't';
                st->mode = M_STR;
            }
            break;
        case M_HEX: {
            const int h = hex_val(c);
            ok = h >= 0;
            st->hex = (uint16_t)(st->hex << 4 | (h & 15));
            if (ok && ++st->aux == 4) ok = hex_done(st);
            break;
        }
        case M_LOW_BS:
            ok = c == '\\';
            st->mode = M_LOW_U;
            break;
        case M_LOW_U:
            ok = c == 'u';
            st->mode = M_HEX;
            st->aux = 0;
            st->hex = 0;
            break;
        case M_UTF:
            ok = c >= st->lo && c <= st->hi;
            st->lo = 0x80, st->hi = 0xBF;
            if (--st->aux == 0) st->mode = M_STR;
            break;
        case M_LIT: {
            const char *lit = LITERALS[st->lit];
            ok = c == (unsigned char)lit[st->aux];
            if (ok && lit[++st->aux] == 0) value_done(st);
            break;
        }
        case M_DONE: ok = false; break;
        default: /* numbers */
            ok = number_byte(st, c, &again);
            if (ok && again) {
                again = false;
                if (st->mode == M_DONE && !umi_json_is_ws(c)) return false;
                if (st->mode == M_DONE) return ws_byte(st, c); /* a space after a top-level number */
                continue;
            }
            break;
        }
        return ok;
    }
}

bool umi_json_feed(umi_json_state *st, const char *bytes, size_t n) {
    if (st->dead) return false;
    for (size_t i = 0; i < n; i++)
        if (!step(st, (unsigned char)bytes[i])) {
            st->dead = true;
            return false;
        }
    return true;
}

bool umi_json_complete(const umi_json_state *st) {
    if (st->dead) return false;
    if (st->mode == M_DONE) return true;
    const bool num_end = st->mode == M_NUM_ZERO || st->mode == M_NUM_INT || st->mode == M_NUM_FRAC ||
                         st->mode == M_NUM_EXP;
    return st->depth == 0 && num_end;
}

bool umi_json_in_string(const umi_json_state *st) { return !st->dead && st->mode == M_STR; }

bool umi_json_closed(const umi_json_state *st) { return !st->dead && st->mode == M_DONE; }
