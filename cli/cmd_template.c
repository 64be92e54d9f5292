/* umi template: render one chat-template case file as found in
 * ../shared/templates/cases/ and print exactly the rendered text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "commands.h"

/* The shared cases were rendered with strftime_now frozen at this instant
 * (2026-11-21 12:00:00 UTC); `--now real` uses the clock. */
static const int64_t CASES_NOW = 1795262400;

/* The case's `input` as template variables: every member but `extra`, the
 * members of `extra` at top level, and tools/documents as none when absent. */
static char *case_vars(const char *case_text) {
    cJSON *root = cJSON_Parse(case_text);
    cJSON *input = root ? cJSON_GetObjectItemCaseSensitive(root, "input") : NULL;
    if (!cJSON_IsObject(input)) {
        cJSON_Delete(root);
        return NULL;
    }
    cJSON *extra = cJSON_DetachItemFromObjectCaseSensitive(input, "extra");
    for (cJSON *e = extra ? extra->child : NULL; e; e = e->next) {
        cJSON_DeleteItemFromObjectCaseSensitive(input, e->string);
        cJSON_AddItemToObject(input, e->string, cJSON_Duplicate(e, true));
    }
    cJSON_Delete(extra);
    if (!cJSON_HasObjectItem(input, "tools")) cJSON_AddNullToObject(input, "tools");
    if (!cJSON_HasObjectItem(input, "documents")) cJSON_AddNullToObject(input, "documents");
    char *vars = cJSON_PrintUnformatted(input);
    cJSON_Delete(root);
    return vars;
}

int cmd_template(int argc, char **argv) {
    const char *tmpl_path = NULL, *input_path = NULL, *now_arg = NULL;
    const cli_opt opts[] = {
        {"template", 0, OPT_STR, &tmpl_path, "FILE", "Jinja chat template"},
        {"input", 0, OPT_STR, &input_path, "CASE.json", "case file; its `input` object gives the variables"},
        {"now", 0, OPT_STR, &now_arg, "WHEN", "strftime_now clock: Unix seconds or 'real' (default: the cases' 2026-11-21 12:00 UTC)"},
    };
    const cli_cmd cmd = {"umi template --template FILE --input CASE.json",
                         "Render a chat template with a test case's variables and print exactly the result.",
                         opts, (int)(sizeof opts / sizeof *opts), NULL, NULL};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!tmpl_path || !input_path) {
        cli_error("give --template FILE and --input CASE.json");
        return EXIT_USAGE;
    }
    int64_t now = CASES_NOW;
    if (now_arg) now = strcmp(now_arg, "real") == 0 ? 0 : strtoll(now_arg, NULL, 10);
    size_t tlen = 0;
    char *tmpl = cli_read_file(tmpl_path, &tlen), *case_text = cli_read_file(input_path, NULL);
    char *vars = case_text ? case_vars(case_text) : NULL, *out = NULL;
    rc = EXIT_RUNTIME;
    if (!tmpl) cli_error("%s: cannot read", tmpl_path);
    else if (!case_text) cli_error("%s: cannot read", input_path);
    else if (!vars) cli_error("%s: not a case file (no `input` object)", input_path);
    else {
        umi_error err = {0};
        if (umi_chat_render_json(tmpl, tlen, vars, now, &out, &err) == UMI_OK) {
            fputs(out, stdout);
            rc = EXIT_OK;
        } else {
            cli_error("%s", err.msg);
        }
    }
    umi_free(out);
    free(vars);
    free(case_text);
    free(tmpl);
    return rc;
}
