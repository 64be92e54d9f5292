/* The size predictor against real published GGUF file sizes.
 *
 * ../shared/plan/published-sizes.tsv lists files made by well-known
 * quantizers; on its `standard` rows (the reference quantizer's own mixes)
 * umi's predicted size must be within ±1% for at least 90% of rows and within
 * ±3% for every row. On failure the whole row-by-row table is printed. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

/* The TSV's model column → catalog name. A quantizer note about the first
 * 405B conversions (16 KV heads) selects that variant. */
static const umi_cat_model *model_for(const char *model, const char *quantizer) {
    char name[64];
    size_t i = 0;
    for (; model[i] && i + 1 < sizeof name; i++) name[i] = (char)tolower((unsigned char)model[i]);
    name[i] = 0;
    if (strcmp(name, "llama-3.1-405b") == 0 && strstr(quantizer, "16-KV-head"))
        return umi_cat_find("llama-3.1-405b-kv16");
    return umi_cat_find(name);
}

int main(int argc, char **argv) {
    const char *shared = argc > 2 ? argv[2] : "../shared";
    char path[1024];
    snprintf(path, sizeof path, "%s/plan/published-sizes.tsv", shared);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    enum { MAX_ROWS = 512 };
    static char report[MAX_ROWS][200];
    int n = 0, within1 = 0, within3 = 0, unknown = 0;
    double worst = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *col[8] = {0};
        int nc = 0;
        for (char *p = line, *tok; nc < 8 && (tok = strsep(&p, "\t\n")) != NULL;) col[nc++] = tok;
        if (nc < 5 || strcmp(col[3], "standard") != 0) continue;
        char quant[32];
        snprintf(quant, sizeof quant, "%s", col[1]);
        /* Quantizers name their importance-matrix files "imatrix", "i1" or
         * "IMat" (legraphista's repositories: imatrix below Q6_K). */
        bool imatrix = strstr(col[4], "imatrix") || strstr(col[4], "i1") ||
                       (col[5] && strstr(col[5], "IMat"));
        char *paren = strstr(quant, " (");
        if (paren) {
            if (strstr(paren, "i1")) imatrix = true;
            *paren = 0;
        }
        const int ft = umi_ftype_parse(quant);
        const umi_cat_model *m = model_for(col[0], col[4]);
        if (ft < 0 || !m) {
            fprintf(stderr, "no prediction for %s %s\n", col[0], col[1]);
            unknown++;
            continue;
        }
        if (umi_ftype_needs_imatrix((umi_ftype)ft)) imatrix = true;
        const double want = atof(col[2]);
        const double got = (double)umi_cat_predict_file_bytes(m, (umi_ftype)ft, imatrix) / 1e9;
        const double err = (got - want) / want * 100;
        if (fabs(err) <= 1.0) within1++;
        if (fabs(err) <= 3.0) within3++;
        if (fabs(err) > fabs(worst)) worst = err;
        if (n < MAX_ROWS)
            snprintf(report[n], sizeof report[n], "%-16s %-22s %-9s %9.2f %9.2f %+7.2f%%%s",
                     col[0], m->name, col[1], want, got, err,
                     fabs(err) > 3 ? "  > 3%" : fabs(err) > 1 ? "  > 1%" : "");
        n++;
    }
    fclose(f);
    const bool ok = n > 0 && unknown == 0 && within3 == n && within1 * 10 >= n * 9;
    if (!ok || getenv("UMI_PLAN_VERBOSE")) {
        printf("%-16s %-22s %-9s %9s %9s %8s\n", "model", "catalog", "quant", "real GB",
               "umi GB", "error");
        for (int i = 0; i < n && i < MAX_ROWS; i++) printf("%s\n", report[i]);
    }
    printf("%d standard rows: %d within 1%% (%.1f%%), %d within 3%%, worst %+.2f%%, %d unknown\n", n,
           within1, n ? 100.0 * within1 / n : 0, within3, worst, unknown);
    return ok ? 0 : 1;
}
