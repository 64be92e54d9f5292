#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

umi_status umi_err(umi_error *err, umi_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *umi_status_name(umi_status s) {
    switch (s) {
    case UMI_OK: return "ok";
    case UMI_ERR_IO: return "i/o error";
    case UMI_ERR_FORMAT: return "malformed file";
    case UMI_ERR_UNSUPPORTED: return "unsupported";
    case UMI_ERR_NOMEM: return "out of memory";
    case UMI_ERR_ARG: return "invalid argument";
    case UMI_ERR_CONTEXT_FULL: return "context full";
    }
    return "unknown status";
}
