/* special_ids.c — which tokens are special, found by their text.
 *
 * GGUF files name BOS, EOS and a few others by id, but many end-of-turn,
 * fill-in-the-middle and end-of-generation tokens only by convention. The
 * reference engine recognises them by text and adjusts their attributes, and
 * some model families get attribute fix-ups keyed on their names; umi does
 * the same so the same file gives the same special tokens:
 *   - unset eot/eom/fim ids are taken from lists of well-known texts, and
 *     those tokens are forced to CONTROL;
 *   - control tokens named like "<unused12>" are marked UNUSED;
 *   - the end-of-generation set: eos, eot, eom, fim pad/rep/sep and every
 *     token with a well-known end text, less the exceptions below;
 *   - name rules: LSTRIP/RSTRIP for jina, phi-3 and modern-bert vocabs.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/vocab.h"

static const char *tok_text(const umi_vocab *v, int32_t id) {
    return v->text + v->tokens[id].text_off;
}

static int32_t find_cstr(const umi_vocab *v, const char *s) {
    return umi_vocab_find(v, s, strlen(s));
}

/* Copy of a string value into buf (lower-cased when asked); "" if absent. */
static void read_str(const umi_gguf *g, const char *key, char *buf, size_t buf_len,
                     bool lower) {
    umi_gguf_get_cstr(g, key, buf, buf_len);
    if (lower) {
        for (char *p = buf; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
    }
}

static bool is_one_of(const char *s, const char *const *list) {
    for (; *list; list++) {
        if (strcmp(s, *list) == 0) {
            return true;
        }
    }
    return false;
}

/* Text lists the reference uses to find special tokens when the file does not
 * name them. Kept verbatim (they are data, not logic). */
static const char *const k_eot_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
    "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
    "<end_of_utterance>", NULL};
static const char *const k_eom_texts[] = {"<|eom_id|>", NULL};
static const char *const k_fim_pre_texts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
    "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL};
static const char *const k_fim_suf_texts[] = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>",
    "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL};
static const char *const k_fim_mid_texts[] = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
    "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL};
static const char *const k_fim_pad_texts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                              "[PAD]", NULL};
static const char *const k_fim_rep_texts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                              "<REPO>", "<reponame>", NULL};
static const char *const k_fim_sep_texts[] = {"<|file_sep|>", NULL};
static const char *const k_eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", "[e~[", NULL};
/* gpt-oss formatting tokens the reference always renders as text. */
static const char *const k_render_texts[] = {"<|channel|>", "<|message|>", "<|start|>",
                                             "<|constrain|>", NULL};

/* When *id is unset, the first text of list that the vocab has becomes it
 * and is forced to CONTROL. The reference takes whichever candidate its hash
 * map yields first, which is not reproducible; list order is deterministic
 * and picks what the reference picks on the vocabs at hand (phi-3: "<|end|>"
 * over "<|endoftext|>", qwen2: "<|im_end|>", llama3: "<|eot_id|>"). */
static void detect_by_text(umi_vocab *v, int32_t *id, const char *const *list) {
    if (*id >= 0) {
        return;
    }
    for (; *list; list++) {
        int32_t found = find_cstr(v, *list);
        if (found >= 0) {
            *id = found;
            v->tokens[found].attr |= UMI_TOKEN_ATTR_CONTROL;
            return;
        }
    }
}

static bool eog_has(const umi_vocab *v, int32_t id) {
    for (int32_t i = 0; i < v->n_eog; i++) {
        if (v->eog[i] == id) {
            return true;
        }
    }
    return false;
}

/* v->eog has room for n_tokens + 3 ids (every token plus eos/eot/eom). */
static void eog_add(umi_vocab *v, int32_t id) {
    if (id >= 0 && id < v->n_tokens && !eog_has(v, id)) {
        v->eog[v->n_eog++] = id;
    }
}

static void eog_remove(umi_vocab *v, int32_t id) {
    for (int32_t i = 0; i < v->n_eog; i++) {
        if (v->eog[i] == id) {
            v->eog[i] = v->eog[--v->n_eog];
            return;
        }
    }
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

umi_status umi_vocab_detect_special(umi_vocab *v, umi_error *err) {
    detect_by_text(v, &v->eot, k_eot_texts);
    detect_by_text(v, &v->eom, k_eom_texts);
    detect_by_text(v, &v->fim_pre, k_fim_pre_texts);
    detect_by_text(v, &v->fim_suf, k_fim_suf_texts);
    detect_by_text(v, &v->fim_mid, k_fim_mid_texts);
    detect_by_text(v, &v->fim_pad, k_fim_pad_texts);
    detect_by_text(v, &v->fim_rep, k_fim_rep_texts);
    detect_by_text(v, &v->fim_sep, k_fim_sep_texts);

    /* Control tokens named like "<unused12>" are placeholders. */
    for (int32_t i = 0; i < v->n_tokens; i++) {
        umi_vocab_token *t = &v->tokens[i];
        if ((t->attr & UMI_TOKEN_ATTR_CONTROL) && strstr(tok_text(v, i), "unused")) {
            t->attr |= UMI_TOKEN_ATTR_UNUSED;
        }
    }

    /* End of generation. */
    v->eog = malloc(((size_t)v->n_tokens + 3) * sizeof *v->eog);
    if (!v->eog) {
        return umi_err(err, UMI_ERR_NOMEM, "out of memory for the end-of-generation list");
    }
    eog_add(v, v->fim_pad);
    eog_add(v, v->fim_rep);
    eog_add(v, v->fim_sep);
    for (int32_t i = 0; i < v->n_tokens; i++) {
        const char *s = tok_text(v, i);
        if (is_one_of(s, k_eog_texts)) {
            eog_add(v, i);
            v->tokens[i].attr |= UMI_TOKEN_ATTR_CONTROL;
        }
        if (is_one_of(s, k_render_texts)) {
            v->tokens[i].attr = UMI_TOKEN_ATTR_USER_DEFINED;
        }
    }
    eog_add(v, v->eos);
    eog_add(v, v->eot);
    eog_add(v, v->eom);

    /* Harmony-style vocabs end a message with <|end|> but a turn with
     * <|return|>/<|call|>: there <|end|> must not stop generation. */
    int32_t end_id = -1;
    bool has_return = false, has_call = false, has_flush = false;
    for (int32_t i = 0; i < v->n_eog; i++) {
        const char *s = tok_text(v, v->eog[i]);
        if (strcmp(s, "<|return|>") == 0) {
            has_return = true;
        } else if (strcmp(s, "<|call|>") == 0 || strcmp(s, "<|calls|>") == 0) {
            has_call = true;
        } else if (strcmp(s, "<|flush|>") == 0) {
            has_flush = true;
        } else if (strcmp(s, "<|end|>") == 0) {
            end_id = v->eog[i];
        }
    }
    if (end_id >= 0 && has_call && (has_return || has_flush)) {
        eog_remove(v, end_id);
        v->tokens[end_id].attr = UMI_TOKEN_ATTR_USER_DEFINED;
    }
    /* Vocabs with <|tool_response> use </s> as ordinary text. */
    int32_t s_id = -1;
    bool has_tool_response = false;
    for (int32_t i = 0; i < v->n_eog; i++) {
        const char *s = tok_text(v, v->eog[i]);
        if (strcmp(s, "<|tool_response>") == 0) {
            has_tool_response = true;
        } else if (strcmp(s, "</s>") == 0) {
            s_id = v->eog[i];
        }
    }
    if (has_tool_response && s_id >= 0) {
        eog_remove(v, s_id);
        v->tokens[s_id].attr = UMI_TOKEN_ATTR_NORMAL;
    }
    qsort(v->eog, (size_t)v->n_eog, sizeof *v->eog, cmp_i32);
    return UMI_OK;
}

/* Strip flags some model families need; the reference keys them on names. */
void umi_vocab_apply_name_rules(umi_vocab *v, const umi_gguf *g) {
    char name[256], pre[128], arch[128];
    read_str(g, "general.name", name, sizeof name, true);
    read_str(g, "tokenizer.ggml.pre", pre, sizeof pre, false);
    read_str(g, "general.architecture", arch, sizeof arch, false);

    if (strstr(pre, "jina-v2-de") || strstr(pre, "jina-v2-es") || strstr(pre, "jina-v2-code") ||
        strstr(arch, "nomic-bert-moe") || strstr(arch, "jina-bert-v3")) {
        int32_t id = find_cstr(v, "<mask>");
        if (id >= 0) {
            v->tokens[id].attr |= UMI_TOKEN_ATTR_LSTRIP;
        }
    } else if (strstr(name, "phi-3") || strstr(name, "phi3")) {
        /* Phi-3 chat tokens swallow the whitespace that follows them. */
        for (int32_t i = 0; i < v->n_special; i++) {
            v->tokens[v->special[i]].attr |= UMI_TOKEN_ATTR_RSTRIP;
        }
        int32_t id = find_cstr(v, "</s>");
        if (id >= 0) {
            v->tokens[id].attr |= UMI_TOKEN_ATTR_RSTRIP;
        }
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
            id = find_cstr(v, keep[k]);
            if (id >= 0) {
                v->tokens[id].attr &= ~(uint32_t)UMI_TOKEN_ATTR_RSTRIP;
            }
        }
    } else if (strstr(name, "modern-bert")) {
        int32_t id = find_cstr(v, "[MASK]");
        if (id >= 0) {
            v->tokens[id].attr |= UMI_TOKEN_ATTR_LSTRIP;
        }
    }
}
