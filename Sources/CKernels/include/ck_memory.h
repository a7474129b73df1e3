#ifndef CK_MEMORY_H
#define CK_MEMORY_H

#ifdef __cplusplus
extern "C" {
#endif

/* Serves every allocation from glibc's heap (no mmap per large block) and returns freed memory to the system
   only past trim_bytes at the top of the heap, unless glibc's MALLOC_MMAP_MAX_ / MALLOC_MMAP_THRESHOLD_ /
   MALLOC_TRIM_THRESHOLD_ environment settings say otherwise. Large tensors were otherwise mapped fresh on
   every allocation and their pages zeroed by the kernel each time. Swift cannot reach mallopt. */
void ck_keep_freed_memory(long trim_bytes);

#ifdef __cplusplus
}
#endif

#endif
