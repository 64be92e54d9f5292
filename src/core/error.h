/* Status codes and error messages.
 *
 * Library functions return a umi_status and, on failure, fill a umi_error the
 * caller owns (usually on its stack) with one printable line that names what
 * was wrong and where. There is no global error state. */
#ifndef UMI_CORE_ERROR_H
#define UMI_CORE_ERROR_H

#include "umi.h"

/* Fill err (if non-NULL) with code and a printf-style message; returns code so
 * callers can write `return umi_err(err, UMI_ERR_FORMAT, "...", ...);`. */
umi_status umi_err(umi_error *err, umi_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
