/* chat.h — rendering Hugging Face chat templates (a Jinja2 subset).
 *
 * The template is rendered as Python Jinja2 3.1 renders it when configured
 * the way transformers' apply_chat_template configures it: an immutable
 * sandbox, trim_blocks and lstrip_blocks on, the loopcontrols extension,
 * `{% generation %}` blocks, and the globals raise_exception(msg) and
 * strftime_now(fmt). docs/CHAT_TEMPLATES.md lists what is supported.
 *
 * Rendering is bounded: loop iterations, macro nesting, memory and output
 * size have limits, and hitting one is an error, never a hang or a crash.
 */
#ifndef UMI_CHAT_CHAT_H
#define UMI_CHAT_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/error.h"

typedef struct umi_chat_template umi_chat_template;

/* Parse len bytes of template source (UTF-8; need not be NUL-terminated).
 * On success *out owns a copy of everything it needs (src may be freed) and
 * must be released with umi_chat_template_free. On failure *out is NULL and
 * err holds "line N: ..." (UMI_ERR_FORMAT for syntax errors, UMI_ERR_NOMEM). */
umi_status umi_chat_template_parse(const char *src, size_t len, umi_chat_template **out,
                                   umi_error *err);

/* Render with the members of the JSON object vars as top-level variables
 * (messages, tools, add_generation_prompt, bos_token, eos_token, ...). JSON
 * null is Python None; a JSON number with an integral value is an int.
 * Members absent from vars are undefined. vars is only read and may be NULL.
 * now (Unix seconds, UTC) is the clock strftime_now() reads.
 *
 * On success *out is a NUL-terminated malloc'd string the caller frees.
 * On failure *out is NULL and:
 *   - UMI_ERR_ARG with err->msg exactly the template's raise_exception()
 *     message (templates use it to reject conversations they cannot format);
 *   - UMI_ERR_FORMAT with "chat template line N: ..." for any other error
 *     the template hits (undefined value misused, type error, unknown filter,
 *     mutating method blocked by the sandbox, a limit exceeded);
 *   - UMI_ERR_NOMEM when memory ran out.
 * The template is not modified: one template may render concurrently in
 * several threads. */
umi_status umi_chat_template_render(const umi_chat_template *t, const cJSON *vars, int64_t now,
                                    char **out, umi_error *err);

void umi_chat_template_free(umi_chat_template *t);

#endif
