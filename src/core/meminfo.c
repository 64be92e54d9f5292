#include "core/meminfo.h"

#include <stdio.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

void umi_meminfo(uint64_t *total, uint64_t *avail) {
    *total = *avail = 0;
#if defined(__APPLE__)
    uint64_t mem = 0;
    size_t len = sizeof mem;
    if (sysctlbyname("hw.memsize", &mem, &len, NULL, 0) == 0) *total = *avail = mem;
#else
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) *total = kb * 1024ull;
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) *avail = kb * 1024ull;
        }
        fclose(f);
    }
    if (*total == 0) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        if (pages > 0 && page > 0) *total = (uint64_t)pages * (uint64_t)page;
    }
    if (*avail == 0) *avail = *total;
#endif
}
