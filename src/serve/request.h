/* Parsing request fields shared by the OpenAI and Ollama routes. Each returns
 * false with a message naming the bad field (the caller answers 400). */
#ifndef UMI_SERVE_REQUEST_H
#define UMI_SERVE_REQUEST_H

#include <cjson/cJSON.h>

#include "serve.h"

/* "messages": a non-empty array of {role, content}; content may be OpenAI's
 * array of text parts. Fills j->msgs. */
bool req_messages(const cJSON *body, job *j, char *msg, size_t len);
/* OpenAI sampling fields: temperature, top_p, max_tokens, max_completion_tokens,
 * n (only 1), seed, stop, plus llama-server's top_k, min_p, repeat_penalty. */
bool req_openai_params(const cJSON *body, job_params *p, char *msg, size_t len);
/* Ollama "options": temperature, top_k, top_p, min_p, num_ctx, num_predict,
 * seed, stop, repeat_penalty, repeat_last_n. */
bool req_ollama_params(const cJSON *body, job_params *p, char *msg, size_t len);
/* An optional boolean / string member (absent or null leaves *dst). */
/* A count of alternative logprobs, 0..LP_MAX_TOP, into p->top_logprobs
 * (0 or more: logprobs on); absent or null leaves it. */
bool req_top_logprobs(const cJSON *o, const char *key, job_params *p, char *msg, size_t len);
/* OpenAI chat's and Ollama's "logprobs": true with "top_logprobs": 0..20. */
bool req_logprobs(const cJSON *o, job_params *p, char *msg, size_t len);
/* A JSON schema for constrained output (OpenAI's response_format
 * json_schema.schema, Ollama's format object): checked against the
 * supported subset, kept as text in p->json_schema. */
bool req_json_schema(const cJSON *schema, job_params *p, char *msg, size_t len);
bool req_bool(const cJSON *o, const char *key, bool *dst, char *msg, size_t len);
bool req_string(const cJSON *o, const char *key, bool required, char **dst, char *msg, size_t len);

#endif
