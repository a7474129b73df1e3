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

/* One malloc arena for all threads (unless MALLOC_ARENA_MAX says otherwise). glibc gives a thread arena's extra
   heaps back to the kernel as soon as they empty, whatever the trim threshold, so large buffers freed on a worker
   thread come back as fresh pages the kernel must zero: medlensd spent 28 % of a series run in clear_page.
   Call before worker threads start; they keep the arena they first used. */
void ck_share_one_heap(void);

#ifdef __cplusplus
}
#endif

#endif
