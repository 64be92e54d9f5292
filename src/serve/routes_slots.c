/* POST /slots/{id}?action=save|restore with {"filename": "name.bin"}: a
 * slot's tokens and KV cache to or from a file in --slot-save-path, as
 * llama-server's slot persistence does (same reply fields). The file format
 * and its checks (model identity, checksum) are the library's
 * (umi_context_state_save/load); the slot work runs on the model's thread
 * (worker.c). A file name is a plain name: it can never leave the directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http.h"

/* "name.bin": no separators, no "..", not hidden, not empty, not too long. */
static bool plain_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 200 || s[0] == '.') return false;
    if (strstr(s, "..")) return false;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20) return false;
    return true;
}

/* "/slots/12" -> 12; -1 when the rest is not a number. */
static int slot_id(const char *url) {
    const char *p = url + strlen("/slots/");
    if (!*p || strlen(p) > 6) return -1;
    int id = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        id = id * 10 + (*p - '0');
    }
    return id;
}

http_result route_slots(http_req *r) {
    const char *dir = r->srv->cfg->slot_save_path;
    if (!dir) return http_error(r, 501, "not_supported", "slot save/restore is off; start the server with --slot-save-path DIR");
    int id = slot_id(r->url);
    if (id < 0) return http_error(r, 400, "invalid_slot", "'%.40s' is not a slot id", r->url + strlen("/slots/"));
    const char *action = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "action");
    bool save = action && strcmp(action, "save") == 0;
    if (!save && !(action && strcmp(action, "restore") == 0))
        return http_error(r, 400, "invalid_action", "?action= must be save or restore");
    http_result res = MHD_NO;
    cJSON *b = http_body_object(r, &res);
    if (!b) return res;
    job *j = NULL;
    model_entry *e = http_model(r, b, &res);
    if (!e) goto out;
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(b, "filename");
    if (!cJSON_IsString(fn)) {
        res = http_error(r, 400, "invalid_value", "'filename' (a string) is required");
        goto out;
    }
    if (!plain_name(fn->valuestring)) {
        res = http_error(r, 400, "invalid_filename",
                         "'filename' must be a plain file name inside --slot-save-path (no '/', no '..', not "
                         "hidden, at most 200 bytes)");
        goto out;
    }
    j = job_new(save ? JOB_SLOT_SAVE : JOB_SLOT_RESTORE);
    if (!j || !(j->slot_file = malloc(strlen(dir) + strlen(fn->valuestring) + 2))) {
        res = http_error(r, 500, "server_error", "out of memory");
        goto out;
    }
    sprintf(j->slot_file, "%s/%s", dir, fn->valuestring);
    j->slot_id = id;
    if (!job_run(r, e, j, &res)) goto out;
    struct stat st;
    double bytes = stat(j->slot_file, &st) == 0 ? (double)st.st_size : 0;
    double ms = (double)(j->t_end - j->t_accepted) / 1e3;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id_slot", id);
    cJSON_AddStringToObject(o, "filename", fn->valuestring);
    cJSON_AddNumberToObject(o, save ? "n_saved" : "n_restored", j->n_slot_tokens);
    cJSON_AddNumberToObject(o, save ? "n_written" : "n_read", bytes);
    cJSON *t = cJSON_AddObjectToObject(o, "timings");
    cJSON_AddNumberToObject(t, save ? "save_ms" : "restore_ms", ms);
    res = http_json(r, 200, o);
out:
    cJSON_Delete(b);
    job_release(j);
    return res;
}
