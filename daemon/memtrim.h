/* Giving freed heap memory back to the kernel after a burst. */
#ifndef ECMON_MEMTRIM_H
#define ECMON_MEMTRIM_H

#include <stddef.h>

/* Call after freeing about `freed` bytes at once (a large answer, a
 * backlog): when that is a lot, every free page of the heaps goes back to
 * the kernel. Cheap for a small `freed` (nothing happens). */
void memtrim(size_t freed);

#endif
