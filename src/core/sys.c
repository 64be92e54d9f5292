/* Clock and CPU topology: the small OS facts the CLI and planner print. */
#include "umi.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t umi_time_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Physical cores = distinct (physical id, core id) pairs in /proc/cpuinfo.
 * Hyperthreads share a core's load/store units, so decode (bandwidth-bound)
 * and matmul (port-bound) gain nothing from them. */
int umi_cpu_physical_cores(void) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1) online = 1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return (int)online;
    enum { MAX_PAIRS = 1024 };
    static const int none = -1;
    int pairs[MAX_PAIRS][2];
    int n = 0, phys = none, core = none;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "physical id : %d", &phys) == 1) continue;
        if (sscanf(line, "core id : %d", &core) == 1) {
            int seen = 0;
            for (int i = 0; i < n; i++)
                if (pairs[i][0] == phys && pairs[i][1] == core) seen = 1;
            if (!seen && n < MAX_PAIRS) {
                pairs[n][0] = phys;
                pairs[n][1] = core;
                n++;
            }
        }
    }
    fclose(f);
    return n > 0 && n <= online ? n : (int)online;
}
