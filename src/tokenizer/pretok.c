/* pretok.c — BPE pre-tokenizers: the reference's split rules run on PCRE2.
 *
 * How the reference splits (and so how umi must split), per raw fragment:
 *   1. The bytes are decoded to code points; malformed bytes become U+FFFD.
 *   2. The pieces start as one piece, the whole fragment. Each step of the
 *      pre-tokenizer's list cuts every current piece on its own: the matches
 *      of the step's regex, searched left to right inside the piece (a piece
 *      boundary is the end of the subject: `$` and lookaheads stop there),
 *      and the text between matches, each become pieces. Empty pieces vanish.
 *   3. The final pieces, re-encoded as UTF-8, are the words.
 *
 * Two facts shape how the regexes are run here:
 *   - The reference classifies characters with its own Unicode 15.1 tables;
 *     PCRE2 uses the tables of its build (Unicode 14 on Debian 12). So for a
 *     step whose regex uses \p{..} ("class" steps), the subject is not the
 *     text itself but a copy in which every non-ASCII code point is replaced
 *     by a fixed stand-in of its class per umi's tables (unicode.c): U+00AA
 *     for letters, U+00B2 numbers, U+00A1 punctuation, U+00A2 symbols, U+0300
 *     marks, U+000B whitespace, U+0080 anything else. ASCII stays itself.
 *     Every class the reference distinguishes then has the same members in
 *     both engines, whatever PCRE2's Unicode version. This mirrors what the
 *     reference does internally (it, too, matches class steps on a copy with
 *     one stand-in per class), so its quirks carry over: \p{Lu}, \p{Ll} etc.
 *     all mean "any letter" there, and its \p{S} leaves out '~'. The patterns
 *     below are written with those meanings spelled out.
 *   - Steps without \p{..} ("literal" steps: explicit ranges such as CJK
 *     blocks) match the code points themselves, except that non-ASCII
 *     whitespace becomes U+000B first (the reference's std::wregex only
 *     knows ASCII whitespace, so it does the same) and surrogates, which
 *     PCRE2 cannot take in UTF-8, become U+E000 (every literal range holds
 *     either both or neither: afmoe's U+8C48..U+FAFF holds both). These run
 *     without PCRE2_UCP so \d and \s stay ASCII, as in the reference.
 * The reference swaps a few regexes (GPT-2's, llama3's, qwen2's, "[^\n]+|\n+")
 * for hand-written loops that cut the same places; umi runs the regexes
 * (tests/unit/test_tokenizer_bpe.c and the fuzz comparison check the cuts).
 * Two of its rules are not regexes at all and are hand-written here too: the
 * digit grouping of "afmoe"/"tiny_aya" and the whole splitter of "kimi-k2".
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretok.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

/* ---------------------------------------------------------------- the table */

typedef enum step_kind {
    STEP_NONE = 0,
    STEP_CLASS,        /* regex with \p{..}, run on class stand-ins */
    STEP_LITERAL,      /* regex on the code points themselves */
    STEP_DIGIT_GROUPS, /* afmoe's digit grouping (hand-written) */
    STEP_KIMI,         /* kimi-k2's splitter (hand-written) */
} step_kind;

typedef struct pretok_step {
    step_kind kind;
    const char *pattern;
} pretok_step;

enum { MAX_STEPS = 6 };

/* Trait bits of a table row (see umi_pretok_traits). */
enum {
    T_IGNORE_MERGES = 1 << 0,
    T_KEEP_SPACES = 1 << 1, /* clean_spaces off */
    T_ADD_BOS = 1 << 2,
    T_ADD_SEP = 1 << 3,
    T_NO_BOS = 1 << 4,
    T_ESCAPE_WS = 1 << 5,
    T_RAW_UTF8 = 1 << 6, /* no byte-level encoding */
    T_NEWLINE_WORDS = 1 << 7,
};

typedef struct pretok_type {
    const char *names; /* "|a|b|": every tokenizer.ggml.pre value for this row */
    unsigned traits;
    pretok_step steps[MAX_STEPS];
} pretok_type;

/* The English contractions, case-insensitive the way the reference spells
 * it (a PCRE2 (?i) would also take U+017F for 's' and U+212A for 'k'). */
#define CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

static const char k_gpt2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
static const char k_llama3[] =
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_jais2[] =
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                 "|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)"
                 "|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}";
static const char k_qwen2[] =
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_qwen35[] =
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*"
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_minicpm5[] =
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_seed_coder[] =
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+"
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_bailing[] =
    "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
static const char k_exaone_moe[] =
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}"
                 "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
/* "Not a-z" / "not A-Z" letters: upper-ish and lower-ish runs (tekken, gpt-4o). */
static const char k_tekken[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
    "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*"
    "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_gpt4o[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" CONTRACTIONS "?"
    "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" CONTRACTIONS "?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_granite_multi[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+" CONTRACTIONS "?"
    "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*" CONTRACTIONS "?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/* The reference's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ and its
 * mirror image both mean "one or more letters or marks" there (every \p{L..}
 * is any letter), which is what is written here (youtu, tiny_aya). */
static const char k_youtu[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+" CONTRACTIONS "?"
    "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_tiny_aya[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+" CONTRACTIONS "?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/* deepseek-v3 / afmoe. The reference's \p{S} lacks '~': '~' may lead a word
 * like any non-letter, and does not join a punctuation run. */
static const char k_ds3_main[] =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
    "|(?:~|[^\\r\\n\\p{L}\\p{P}\\p{S}])?[\\p{L}\\p{M}]+"
    "| ?(?:(?!~)[\\p{P}\\p{S}])+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char k_punct_run[] = "[\\p{P}$+<=>^~|]+";
static const char k_falcon_punct_run[] = "[\\p{P}$+<=>^~|`]+"; /* falcon's adds '`' */
static const char k_newlines[] = "[^\\n]+|[\\n]+";
static const char k_poro[] =
    " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+";
static const char k_ds_cjk[] = "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+";
static const char k_ds3_cjk[] = "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+";
static const char k_ds_letters[] =
    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
    "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
    "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
    "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
    "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}"
    "\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}"
    "\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}"
    "\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}"
    "\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}"
    "\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}"
    "\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}"
    "\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
    "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}"
    "\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}"
    "\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"
    "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"
    "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
    "\\x{1E900}-\\x{1E943}]+";
static const char k_ds_punct[] =
    "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+";
static const char k_youtu_cjk[] =
    "[\\x{AC00}-\\x{D7A3}\\x{3131}-\\x{318E}]+"
    "|[\\x{FF01}\\x{2026}\\x{201C}\\x{201D}\\x{2018}\\x{2019}\\x{2014}\\x{FF1A}\\x{FF1B}\\x{FF0C}"
    "\\x{3001}-\\x{303F}\\x{FE30}-\\x{FE4F}]+"
    "|[\\x{3105}-\\x{312F}]+|[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+";
/* (The second range starts at U+8C48, not U+F900: that is what the
 * reference's pattern holds.) */
static const char k_afmoe_cjk[] =
    "[\\x{4E00}-\\x{9FFF}\\x{3400}-\\x{4DBF}\\x{8C48}-\\x{FAFF}\\x{3040}-\\x{309F}"
    "\\x{30A0}-\\x{30FF}\\x{FF65}-\\x{FF9F}\\x{2F00}-\\x{2FDF}\\x{E40}-\\x{E7F}\\x{E80}-\\x{EFF}"
    "\\x{1780}-\\x{17FF}\\x{1000}-\\x{109F}\\x{AA60}-\\x{AA7F}\\x{A9E0}-\\x{A9FF}"
    "\\x{AC00}-\\x{D7AF}\\x{1100}-\\x{11FF}]+";

#define CLASS(p) {STEP_CLASS, p}
#define LITERAL(p) {STEP_LITERAL, p}

static const pretok_type k_types[] = {
    {"|default|", 0,
     {CLASS(k_punct_run), CLASS(k_gpt2), CLASS("\\p{N}+"), LITERAL("[0-9][0-9][0-9]")}},
    {"|llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2|jina-v5-nano|",
     T_IGNORE_MERGES | T_ADD_BOS, {CLASS(k_llama3)}},
    {"|dbrx|smaug-bpe|", 0, {CLASS(k_llama3)}},
    {"|glm4|chatglm-bpe|", T_NO_BOS, {CLASS(k_llama3)}},
    {"|jais-2|", 0, {CLASS(k_jais2)}},
    {"|deepseek-llm|", T_KEEP_SPACES,
     {LITERAL("[\\r\\n]"), LITERAL(k_ds_letters), LITERAL(k_ds_punct), LITERAL("\\s+$"),
      LITERAL(k_ds_cjk), CLASS("\\p{N}+")}},
    {"|deepseek-v3|hunyuan-dense|joyai-llm|", T_KEEP_SPACES,
     {CLASS("\\p{N}{1,3}"), LITERAL(k_ds3_cjk), CLASS(k_ds3_main)}},
    {"|youtu|", T_KEEP_SPACES | T_IGNORE_MERGES, {LITERAL(k_youtu_cjk), CLASS(k_youtu)}},
    {"|deepseek-coder|", T_KEEP_SPACES,
     {LITERAL("[\\r\\n]"), CLASS("\\s?\\p{L}+"), CLASS("\\s?\\p{P}+"), LITERAL(k_ds_cjk),
      CLASS("\\p{N}")}},
    {"|falcon|", 0, {CLASS(k_falcon_punct_run), CLASS(k_gpt2), LITERAL("[0-9][0-9][0-9]")}},
    {"|starcoder|refact|codeshell|exaone|minerva-7b|mellum2|", 0,
     {CLASS("\\p{N}"), CLASS(k_gpt2)}},
    {"|command-r|smollm|", T_KEEP_SPACES, {CLASS("\\p{N}"), CLASS(k_gpt2)}},
    {"|gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v2-es|jina-v2-de|a.x-4.0|mellum|modern-bert"
     "|mpt|olmo|jais|exaone4|",
     0, {CLASS(k_gpt2)}},
    {"|jina-v1-en|jina-v2-code|roberta-bpe|", T_ADD_SEP, {CLASS(k_gpt2)}},
    {"|trillion|granite-docling|", T_KEEP_SPACES, {CLASS(k_gpt2)}},
    {"|qwen2|deepseek-r1-qwen|kormo|f2llmv2|hunyuan|grok-2|solar-open|", T_KEEP_SPACES,
     {CLASS(k_qwen2)}},
    {"|stablelm2|megrez|", 0, {CLASS(k_qwen2)}},
    {"|qwen35|", T_KEEP_SPACES, {CLASS(k_qwen35)}},
    {"|poro-chat|", T_KEEP_SPACES, {LITERAL(k_poro)}},
    {"|bloom|gpt3-finnish|", 0, {LITERAL(k_poro)}},
    {"|viking|", T_KEEP_SPACES, {LITERAL(k_poro), CLASS("\\p{N}")}},
    {"|tekken|", T_KEEP_SPACES | T_IGNORE_MERGES | T_ADD_BOS, {CLASS(k_tekken)}},
    {"|chameleon|", T_KEEP_SPACES | T_ADD_BOS,
     {LITERAL("<sentinel:[0-9]+>"), LITERAL("(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z"),
      LITERAL("([\\t\\n]|    |  )"), CLASS("\\p{N}"), CLASS("[\\p{P}!-/:-@\\[-`{-~]"),
      CLASS(k_gpt2)}},
    {"|gpt-4o|llama4|kanana2|talkie|minimax-m2|", T_KEEP_SPACES, {CLASS(k_gpt4o)}},
    {"|granite-embed-multi-97m|", T_KEEP_SPACES | T_IGNORE_MERGES, {CLASS(k_granite_multi)}},
    {"|tiny_aya|cohere2moe|", T_KEEP_SPACES,
     {{STEP_DIGIT_GROUPS, NULL}, CLASS(k_tiny_aya)}},
    {"|kimi-k2|", T_KEEP_SPACES, {{STEP_KIMI, NULL}}},
    {"|superbpe|", T_KEEP_SPACES, {CLASS("\\p{N}+"), LITERAL("(?=(\\d{3})+(?!\\d))")}},
    {"|bailingmoe|bailingmoe2|llada-moe|", T_KEEP_SPACES, {CLASS(k_bailing)}},
    {"|seed-coder|", T_KEEP_SPACES, {CLASS(k_seed_coder)}},
    {"|afmoe|", T_KEEP_SPACES,
     {{STEP_DIGIT_GROUPS, NULL}, LITERAL(k_afmoe_cjk), CLASS(k_ds3_main)}},
    {"|laguna|", T_KEEP_SPACES, {LITERAL(k_newlines), CLASS(k_qwen2)}},
    {"|exaone-moe|", 0, {CLASS(k_exaone_moe)}},
    {"|minicpm5|", T_IGNORE_MERGES, {CLASS("\\p{N}{1,3}"), CLASS(k_minicpm5)}},
    {"|gemma4|granite-embed-multi-311m|", T_ESCAPE_WS | T_RAW_UTF8 | T_NEWLINE_WORDS,
     {LITERAL(k_newlines)}},
    {"|sarvam-moe|", T_ESCAPE_WS | T_RAW_UTF8 | T_KEEP_SPACES, {LITERAL(k_newlines)}},
    {"|whitespace|", T_RAW_UTF8, {LITERAL("\\S+")}},
};

#undef CLASS
#undef LITERAL

struct umi_pretok {
    const pretok_type *type;
    char name[64];
    umi_pretok_traits traits;
    int n_steps;
    step_kind kind[MAX_STEPS];
    pcre2_code *code[MAX_STEPS]; /* NULL for hand-written steps */
};

/* ---------------------------------------------------------------- init */

static const pretok_type *find_type(const char *name) {
    if (name[0] == '\0') {
        return &k_types[0]; /* no pre-tokenizer named: the reference's default */
    }
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++) {
        for (const char *p = strstr(k_types[i].names, name); p; p = strstr(p + 1, name)) {
            if (p[-1] == '|' && p[n] == '|') {
                return &k_types[i];
            }
        }
    }
    return NULL;
}

static umi_status compile_step(umi_pretok *p, int i, const char *pattern, umi_error *err) {
    uint32_t options = PCRE2_UTF | PCRE2_NO_AUTO_CAPTURE | PCRE2_DOLLAR_ENDONLY;
    if (p->kind[i] == STEP_CLASS) {
        options |= PCRE2_UCP;
    }
    int code = 0;
    PCRE2_SIZE at = 0;
    p->code[i] = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code, &at, NULL);
    if (!p->code[i]) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        return umi_err(err, UMI_ERR_FORMAT, "pre-tokenizer '%s': regex %d: %s at offset %zu",
                       p->name, i, (const char *)msg, (size_t)at);
    }
    /* JIT is a speed-up only: without it (unsupported platform, no
     * executable memory) pcre2_match interprets the same pattern. */
    (void)pcre2_jit_compile(p->code[i], PCRE2_JIT_COMPLETE);
    return UMI_OK;
}

umi_status umi_pretok_init(const char *name, umi_pretok **out, umi_error *err) {
    *out = NULL;
    const pretok_type *t = find_type(name);
    if (!t) {
        return umi_err(err, UMI_ERR_UNSUPPORTED, "unknown pre-tokenizer type '%s' (tokenizer.ggml.pre)",
                       name);
    }
    umi_pretok *p = calloc(1, sizeof *p);
    if (!p) {
        return umi_err(err, UMI_ERR_NOMEM, "out of memory for the pre-tokenizer");
    }
    p->type = t;
    /* The row's first name, as the canonical one. */
    size_t n = strcspn(t->names + 1, "|");
    n = n < sizeof p->name - 1 ? n : sizeof p->name - 1;
    memcpy(p->name, t->names + 1, n);
    p->traits = (umi_pretok_traits){
        .ignore_merges = (t->traits & T_IGNORE_MERGES) != 0,
        .clean_spaces = (t->traits & T_KEEP_SPACES) == 0,
        .add_bos = (t->traits & T_ADD_BOS) != 0,
        .add_sep = (t->traits & T_ADD_SEP) != 0,
        .no_bos = (t->traits & T_NO_BOS) != 0,
        .escape_whitespaces = (t->traits & T_ESCAPE_WS) != 0,
        .byte_encode = (t->traits & T_RAW_UTF8) == 0,
        .newline_words = (t->traits & T_NEWLINE_WORDS) != 0,
    };
    for (int i = 0; i < MAX_STEPS && t->steps[i].kind != STEP_NONE; i++) {
        p->kind[i] = t->steps[i].kind;
        p->n_steps = i + 1;
        if (t->steps[i].pattern) {
            umi_status st = compile_step(p, i, t->steps[i].pattern, err);
            if (st != UMI_OK) {
                umi_pretok_free(p);
                return st;
            }
        }
    }
    *out = p;
    return UMI_OK;
}

void umi_pretok_free(umi_pretok *p) {
    if (!p) {
        return;
    }
    for (int i = 0; i < p->n_steps; i++) {
        pcre2_code_free(p->code[i]);
    }
    free(p);
}

const umi_pretok_traits *umi_pretok_get_traits(const umi_pretok *p) { return &p->traits; }
const char *umi_pretok_name(const umi_pretok *p) { return p->name; }

/* ---------------------------------------------------------------- scratch */

static bool grow(void **buf, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) {
        return true;
    }
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need) {
        cap2 *= 2;
    }
    void *p = realloc(*buf, cap2 * elem);
    if (!p) {
        return false;
    }
    *buf = p;
    *cap = cap2;
    return true;
}

/* seg and seg_next trade places after every step, so they share one
 * capacity: room for a piece per code point. */
static bool grow_pieces(umi_pretok_words *w, size_t need) {
    if (need <= w->seg_cap) {
        return true;
    }
    size_t *a = realloc(w->seg, need * sizeof *a);
    if (a) {
        w->seg = a;
    }
    size_t *b = realloc(w->seg_next, need * sizeof *b);
    if (b) {
        w->seg_next = b;
    }
    if (!a || !b) {
        return false;
    }
    w->seg_cap = need;
    return true;
}

void umi_pretok_words_free(umi_pretok_words *w) {
    free(w->text);
    free(w->word_end);
    free(w->cps);
    free(w->match_text);
    free(w->match_off);
    free(w->seg);
    free(w->seg_next);
    pcre2_match_data_free(w->match_data);
    pcre2_match_context_free(w->match_ctx);
    pcre2_jit_stack_free(w->jit_stack);
    memset(w, 0, sizeof *w);
}

/* The PCRE2 match data and context are made on first use and kept with the
 * scratch. */
static bool ensure_matcher(umi_pretok_words *w) {
    if (!w->match_data) {
        w->match_data = pcre2_match_data_create(1, NULL);
    }
    if (!w->match_ctx) {
        w->match_ctx = pcre2_match_context_create(NULL);
    }
    return w->match_data && w->match_ctx;
}

/* JIT code runs on PCRE2's default 32 KiB stack, enough for these patterns
 * (their repeats are over single characters) except for a long run through
 * a nested repeat (exaone-moe's letter groups), which needs a frame per
 * repetition. Only then is a stack that may grow to 8 MiB made (mapping it
 * on every call would cost more than the tokenizing). */
static bool grow_jit_stack(umi_pretok_words *w) {
    if (w->jit_stack) {
        return false; /* already at the largest */
    }
    w->jit_stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, NULL);
    if (!w->jit_stack) {
        return false;
    }
    pcre2_jit_stack_assign(w->match_ctx, NULL, w->jit_stack);
    return true;
}

/* ---------------------------------------------------------------- subjects */

/* The stand-in of a code point for class steps (see the top of the file). */
static uint32_t class_standin(uint32_t cp) {
    if (cp < 0x80) {
        return cp;
    }
    if (umi_cpt_is_whitespace(cp)) {
        return 0x0B;
    }
    switch (umi_cpt_category(cp)) {
    case UMI_CPT_LETTER: return 0xAA;
    case UMI_CPT_NUMBER: return 0xB2;
    case UMI_CPT_PUNCTUATION: return 0xA1;
    case UMI_CPT_SYMBOL: return 0xA2;
    case UMI_CPT_MARK: return 0x300;
    default: return 0x80;
    }
}

static uint32_t literal_standin(uint32_t cp) {
    if (cp >= 0x80 && umi_cpt_is_whitespace(cp)) {
        return 0x0B;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
        return 0xE000;
    }
    return cp;
}

/* Build the subject for steps of kind (class or literal), with each code
 * point's byte offset, unless it is already there. */
static bool build_subject(umi_pretok_words *w, step_kind kind) {
    if (w->match_kind == (int)kind) {
        return true;
    }
    if (!grow((void **)&w->match_text, &w->match_cap, 4 * w->n_cps + 1, 1) ||
        !grow((void **)&w->match_off, &w->match_off_cap, w->n_cps + 1, sizeof(size_t))) {
        return false;
    }
    size_t n = 0;
    for (size_t i = 0; i < w->n_cps; i++) {
        uint32_t cp = kind == STEP_CLASS ? class_standin(w->cps[i]) : literal_standin(w->cps[i]);
        w->match_off[i] = n;
        n += umi_utf8_encode(cp, w->match_text + n);
    }
    w->match_off[w->n_cps] = n;
    w->match_kind = (int)kind;
    return true;
}

/* Index of the code point starting at byte b of the subject, searching
 * code points [lo, hi]. b is always a code point boundary. */
static size_t cp_at_byte(const umi_pretok_words *w, size_t b, size_t lo, size_t hi) {
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->match_off[mid] < b) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* ---------------------------------------------------------------- steps */

/* Cut piece [a, b) (code point indices) at the matches of code; new piece
 * ends go to out[*n_out...]. Iterates like the reference's regex iterator:
 * after an empty match, first a non-empty match anchored at the same place
 * is tried, then the search moves on by one character. */
static umi_status cut_regex(const pcre2_code *code, umi_pretok_words *w, size_t a, size_t b,
                            size_t *out, size_t *n_out) {
    const PCRE2_SPTR subject = (PCRE2_SPTR)w->match_text + w->match_off[a];
    const PCRE2_SIZE len = w->match_off[b] - w->match_off[a];
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->match_data);
    PCRE2_SIZE pos = 0;
    uint32_t opts = 0;
    size_t done = a; /* end of the last piece written */
    while (pos <= len) {
        int rc = pcre2_match(code, subject, len, pos, opts | PCRE2_NO_UTF_CHECK, w->match_data,
                             w->match_ctx);
        if (rc == PCRE2_ERROR_NOMATCH) {
            if (opts == 0) {
                break;
            }
            /* No non-empty match where the empty one was: step one character. */
            opts = 0;
            pos += pos < len ? umi_utf8_seq_len(subject[pos]) : 1;
            continue;
        }
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && grow_jit_stack(w)) {
            continue; /* the same search again, with room */
        }
        if (rc < 0) {
            return UMI_ERR_ARG; /* match/depth limit, or out of JIT stack at 8 MiB */
        }
        size_t ms = cp_at_byte(w, w->match_off[a] + ov[0], a, b);
        size_t me = cp_at_byte(w, w->match_off[a] + ov[1], ms, b);
        if (ms > done) {
            out[(*n_out)++] = ms; /* the gap before the match */
        }
        if (me > ms) {
            out[(*n_out)++] = me;
            done = me;
        } else if (ms > done) {
            done = ms;
        }
        opts = ov[1] == ov[0] ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0;
        pos = ov[1];
    }
    if (b > done) {
        out[(*n_out)++] = b;
    }
    return UMI_OK;
}

static bool is_number(uint32_t cp) { return umi_cpt_category(cp) == UMI_CPT_NUMBER; }

/* afmoe / tiny_aya digits: a run of n numbers is cut into groups of three
 * counted from its end, the first group holding the n % 3 leftovers (when
 * there are any). Text before a run is not a piece of its own: it joins the
 * run's first group. Text after the last run is one piece. */
static void cut_digit_groups(const umi_pretok_words *w, size_t a, size_t b, size_t *out,
                             size_t *n_out) {
    size_t done = a;
    for (size_t pos = a; pos < b;) {
        if (!is_number(w->cps[pos])) {
            pos++;
            continue;
        }
        size_t start = pos;
        while (pos < b && is_number(w->cps[pos])) {
            pos++;
        }
        size_t cut = start + (pos - start) % 3;
        if (cut == start) {
            cut += 3;
        }
        for (; cut <= pos; cut += 3) {
            out[(*n_out)++] = cut;
        }
        done = pos;
    }
    if (b > done) {
        out[(*n_out)++] = b;
    }
}

/* ---------------------------------------------------------------- kimi-k2 */

/* The Han ranges kimi-k2's splitter treats apart from other letters. */
static bool is_han(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2EBEF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x2F800 && cp <= 0x2FA1F);
}

typedef struct kimi_cursor {
    const uint32_t *cps;
    size_t end;
} kimi_cursor;

/* Category of position i, or "none" past the piece's end. */
static int kimi_cat(const kimi_cursor *k, size_t i) {
    return i < k->end ? (int)umi_cpt_category(k->cps[i]) : -1;
}

static bool kimi_letter(const kimi_cursor *k, size_t i) {
    return kimi_cat(k, i) == UMI_CPT_LETTER && !is_han(k->cps[i]);
}

static bool kimi_space(const kimi_cursor *k, size_t i) {
    return i < k->end && umi_cpt_is_whitespace(k->cps[i]);
}

/* Length of an English contraction ('s 't 'm 'd 're 've 'll, any case) at
 * i, or 0. */
static size_t kimi_contraction(const kimi_cursor *k, size_t i) {
    if (i + 1 >= k->end || k->cps[i] != '\'') {
        return 0;
    }
    uint32_t c1 = umi_cpt_tolower(k->cps[i + 1]);
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        return 2;
    }
    if (i + 2 >= k->end) {
        return 0;
    }
    uint32_t c2 = umi_cpt_tolower(k->cps[i + 2]);
    return ((c1 == 'r' || c1 == 'v') && c2 == 'e') || (c1 == 'l' && c2 == 'l') ? 3 : 0;
}

/* End of the token that starts at pos. The rules, in order: a run of Han;
 * an optional non-letter/number/newline lead, non-Han letters, an optional
 * contraction; up to three numbers; an optional space, a run of neither
 * whitespace, letters nor numbers, then newlines; whitespace up to its last
 * newline; whitespace but the last one before non-whitespace; whitespace;
 * else one character. */
static size_t kimi_token_end(const kimi_cursor *k, size_t pos) {
    const uint32_t cp = k->cps[pos];
    const int cat = kimi_cat(k, pos);
    if (is_han(cp)) {
        while (pos < k->end && is_han(k->cps[pos])) {
            pos++;
        }
        return pos;
    }
    bool newline = cp == '\r' || cp == '\n';
    bool lead = !newline && cat != UMI_CPT_LETTER && cat != UMI_CPT_NUMBER;
    if (kimi_letter(k, pos) || (lead && kimi_letter(k, pos + 1))) {
        pos += lead;
        while (kimi_letter(k, pos)) {
            pos++;
        }
        return pos + kimi_contraction(k, pos);
    }
    if (cat == UMI_CPT_NUMBER) {
        size_t start = pos;
        while (pos - start < 3 && kimi_cat(k, pos) == UMI_CPT_NUMBER) {
            pos++;
        }
        return pos;
    }
    size_t p2 = pos + (cp == ' ');
    int c2 = kimi_cat(k, p2);
    if (c2 >= 0 && !kimi_space(k, p2) && c2 != UMI_CPT_LETTER && c2 != UMI_CPT_NUMBER) {
        pos = p2;
        while (kimi_cat(k, pos) >= 0 && !kimi_space(k, pos) &&
               kimi_cat(k, pos) != UMI_CPT_LETTER && kimi_cat(k, pos) != UMI_CPT_NUMBER) {
            pos++;
        }
        while (pos < k->end && (k->cps[pos] == '\r' || k->cps[pos] == '\n')) {
            pos++;
        }
        return pos;
    }
    size_t n_space = 0, last_newline = 0;
    while (kimi_space(k, pos + n_space)) {
        uint32_t c = k->cps[pos + n_space];
        if (c == '\r' || c == '\n') {
            last_newline = pos + n_space + 1;
        }
        n_space++;
    }
    if (last_newline > 0) {
        return last_newline;
    }
    if (n_space > 1 && pos + n_space < k->end) {
        return pos + n_space - 1;
    }
    return pos + (n_space > 0 ? n_space : 1);
}

static void cut_kimi(const umi_pretok_words *w, size_t a, size_t b, size_t *out, size_t *n_out) {
    kimi_cursor k = {w->cps, b};
    for (size_t pos = a; pos < b;) {
        pos = kimi_token_end(&k, pos);
        out[(*n_out)++] = pos;
    }
}

/* ---------------------------------------------------------------- split */

static umi_status decode(const umi_pretok *p, const char *text, size_t len, umi_pretok_words *w) {
    if (!grow((void **)&w->cps, &w->cps_cap, len + 1, sizeof *w->cps)) {
        return UMI_ERR_NOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += umi_cpt_decode(text + i, len - i, &cp);
        if (cp == ' ' && p->traits.escape_whitespaces) {
            cp = 0x2581; /* SentencePiece's space marker */
        }
        w->cps[n++] = cp;
    }
    w->n_cps = n;
    return UMI_OK;
}

/* Re-encode the code points and record where each piece ends. */
static umi_status emit_words(umi_pretok_words *w, size_t n_seg) {
    if (!grow((void **)&w->text, &w->text_cap, 4 * w->n_cps + 1, 1) ||
        !grow((void **)&w->word_end, &w->word_cap, n_seg + 1, sizeof *w->word_end)) {
        return UMI_ERR_NOMEM;
    }
    size_t n = 0, cp = 0;
    for (size_t s = 0; s < n_seg; s++) {
        for (; cp < w->seg[s]; cp++) {
            n += umi_utf8_encode(w->cps[cp], w->text + n);
        }
        w->word_end[s] = n;
    }
    w->text_len = n;
    w->n_words = n_seg;
    return UMI_OK;
}

umi_status umi_pretok_split(const umi_pretok *p, const char *text, size_t len,
                            umi_pretok_words *w) {
    w->n_words = 0;
    w->text_len = 0;
    w->match_kind = -1;
    umi_status st = decode(p, text, len, w);
    if (st != UMI_OK || w->n_cps == 0) {
        return st;
    }
    if (!grow_pieces(w, w->n_cps + 1) || !ensure_matcher(w)) {
        return UMI_ERR_NOMEM;
    }
    size_t n_seg = 1;
    w->seg[0] = w->n_cps;
    for (int i = 0; i < p->n_steps; i++) {
        if ((p->kind[i] == STEP_CLASS || p->kind[i] == STEP_LITERAL) &&
            !build_subject(w, p->kind[i])) {
            return UMI_ERR_NOMEM;
        }
        size_t n_next = 0, start = 0;
        for (size_t s = 0; s < n_seg; s++) {
            size_t end = w->seg[s];
            switch (p->kind[i]) {
            case STEP_CLASS:
            case STEP_LITERAL:
                st = cut_regex(p->code[i], w, start, end, w->seg_next, &n_next);
                break;
            case STEP_DIGIT_GROUPS:
                cut_digit_groups(w, start, end, w->seg_next, &n_next);
                break;
            case STEP_KIMI:
                cut_kimi(w, start, end, w->seg_next, &n_next);
                break;
            case STEP_NONE:
                break;
            }
            if (st != UMI_OK) {
                return st;
            }
            start = end;
        }
        size_t *tmp = w->seg;
        w->seg = w->seg_next;
        w->seg_next = tmp;
        n_seg = n_next;
    }
    return emit_words(w, n_seg);
}
