#include "textout.h"

#include "umi.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

void textout_init(textout *t, FILE *f) {
    t->f = f;
    t->n_pend = 0;
    t->need = 0;
}

void textout_write(textout *t, const char *bytes, int n) {
    for (int i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)bytes[i];
        if (t->n_pend > 0) {
            if ((c & 0xC0) == 0x80) {
                t->pend[t->n_pend++] = c;
                if (t->n_pend == t->need) {
                    fwrite(t->pend, 1, (size_t)t->n_pend, t->f);
                    t->n_pend = 0;
                }
                continue;
            }
            fputs(REPLACEMENT, t->f); /* character cut short */
            t->n_pend = 0;
        }
        const int len = umi_utf8_char_len(c);
        if (len == 1) {
            fputc(c, t->f);
        } else if (len == 0) {
            fputs(REPLACEMENT, t->f);
        } else {
            t->pend[0] = c;
            t->n_pend = 1;
            t->need = len;
        }
    }
    fflush(t->f);
}

void textout_finish(textout *t) {
    if (t->n_pend > 0) fputs(REPLACEMENT, t->f);
    t->n_pend = 0;
    fflush(t->f);
}
