/* Total and available memory of the machine, for the planner's `this`
 * profile and the loader's decision to prefault mapped weights. */
#ifndef UMI_CORE_MEMINFO_H
#define UMI_CORE_MEMINFO_H

#include <stdint.h>

/* Bytes of total and available memory (Linux: MemAvailable, which counts
 * reclaimable page cache); 0 when unknown, avail = total when only that is. */
void umi_meminfo(uint64_t *total, uint64_t *avail);

#endif
