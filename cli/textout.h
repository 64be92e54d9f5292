/* Streaming token text to a terminal or pipe: token pieces may split a
 * UTF-8 character, so bytes are held until a character is complete, and
 * invalid sequences are printed as U+FFFD instead of raw garbage. */
#ifndef UMI_CLI_TEXTOUT_H
#define UMI_CLI_TEXTOUT_H

#include <stdio.h>

typedef struct textout {
    FILE *f;
    unsigned char pend[4];
    int n_pend;
    int need; /* total bytes of the pending character */
} textout;

void textout_init(textout *t, FILE *f);
void textout_write(textout *t, const char *bytes, int n);
/* Emit U+FFFD for an unfinished character and flush. */
void textout_finish(textout *t);

#endif
