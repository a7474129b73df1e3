#include "ck_memory.h"

#include <malloc.h>
#include <stdlib.h>

void ck_keep_freed_memory(long trim_bytes) {
#if defined(__GLIBC__)
    if (!getenv("MALLOC_MMAP_MAX_") && !getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_MAX, 0);
    if (!getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, (int)trim_bytes);
#else
    (void)trim_bytes;
#endif
}

void ck_share_one_heap(void) {
#if defined(__GLIBC__)
    if (!getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 1);
#endif
}
