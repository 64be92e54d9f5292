/* The public chat calls of umi.h over the template engine: JSON text in,
 * rendered text out; the model's own template or the ChatML fallback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat/chat.h"
#include "model/model.h"

/* ChatML (OpenAI's chat markup, used by Qwen and many fine-tunes): the
 * documented fallback when a GGUF carries no template. */
static const char CHATML[] =
    "{%- for message in messages -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}";

const char *umi_chat_default_template(void) { return CHATML; }

void umi_free(void *p) { free(p); }

const char *umi_model_chat_template(const umi_model *m, const char *name) {
    char key[256] = "tokenizer.chat_template";
    if (name) snprintf(key, sizeof key, "tokenizer.chat_template.%s", name);
    for (size_t i = 0; i < m->n_chat_templates; i++)
        if (strcmp(m->chat_templates[i].key, key) == 0) return m->chat_templates[i].text;
    return NULL;
}

static umi_status render(const char *tmpl, size_t len, const cJSON *vars, int64_t now, char **out,
                         umi_error *err) {
    umi_chat_template *t = NULL;
    umi_status st = umi_chat_template_parse(tmpl, len, &t, err);
    if (st) return st;
    st = umi_chat_template_render(t, vars, now ? now : (int64_t)time(NULL), out, err);
    umi_chat_template_free(t);
    return st;
}

umi_status umi_chat_render_json(const char *tmpl, size_t len, const char *vars_json, int64_t now,
                                char **out, umi_error *err) {
    *out = NULL;
    cJSON *vars = cJSON_Parse(vars_json ? vars_json : "{}");
    if (!vars || !cJSON_IsObject(vars)) {
        cJSON_Delete(vars);
        return umi_err(err, UMI_ERR_ARG, "chat variables must be a JSON object");
    }
    umi_status st = render(tmpl, len, vars, now, out, err);
    cJSON_Delete(vars);
    return st;
}

static const char *token_text_or_empty(const umi_model *m, int32_t id) {
    const char *t = id >= 0 ? umi_vocab_token_text(m->vocab, id) : NULL;
    return t ? t : "";
}

umi_status umi_chat_apply(const umi_model *m, const umi_chat_message *msgs, size_t n_msgs,
                          bool add_generation_prompt, char **out, bool *used_fallback,
                          umi_error *err) {
    *out = NULL;
    const char *tmpl = umi_model_chat_template(m, NULL);
    if (used_fallback) *used_fallback = tmpl == NULL;
    if (!tmpl) tmpl = CHATML;
    cJSON *vars = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(vars, "messages");
    bool ok = vars && arr;
    for (size_t i = 0; ok && i < n_msgs; i++) {
        cJSON *msg = cJSON_CreateObject();
        ok = msg && cJSON_AddStringToObject(msg, "role", msgs[i].role ? msgs[i].role : "user") &&
             cJSON_AddStringToObject(msg, "content", msgs[i].content ? msgs[i].content : "");
        if (msg) cJSON_AddItemToArray(arr, msg);
    }
    ok = ok && cJSON_AddBoolToObject(vars, "add_generation_prompt", add_generation_prompt) &&
         cJSON_AddStringToObject(vars, "bos_token", token_text_or_empty(m, umi_vocab_bos(m->vocab))) &&
         cJSON_AddStringToObject(vars, "eos_token", token_text_or_empty(m, umi_vocab_eos(m->vocab))) &&
         cJSON_AddNullToObject(vars, "tools");
    umi_status st = ok ? render(tmpl, strlen(tmpl), vars, 0, out, err)
                       : umi_err(err, UMI_ERR_NOMEM, "out of memory (chat messages)");
    cJSON_Delete(vars);
    return st;
}
